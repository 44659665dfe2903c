/*
 * store_cmd_list.c: the list commands (Redis 7.0's t_list.c): pushes and
 * pops at both ends, indexes, ranges, LINSERT, LREM, LTRIM, LPOS, the
 * moves between lists, LMPOP, and the blocking forms BLPOP, BRPOP,
 * BLMOVE, BRPOPLPUSH and BLMPOP.
 *
 * Errors come in Redis's order (they are part of the protocol): where
 * Redis parses an argument before it looks the key up, so do we, so that
 * `LRANGE missing x 1` is "not an integer" and `LINDEX string x` is
 * WRONGTYPE.
 *
 * Blocking.  A blocking command first tries to serve itself like its
 * non-blocking twin; when every key is empty it calls store_block, which
 * parks the client (or, inside EXEC, replies the null array).  When a
 * push makes one of its keys ready the dispatcher runs the command again
 * with STORE_CLIENT_RETRY: it then serves from the first non-empty list
 * or stays blocked.  On a re-run a key of another type is passed over
 * instead of answered WRONGTYPE: Redis 7.0 never wakes a waiter for a key
 * that is no longer a list, it just leaves it waiting.  One difference
 * stays: when several of a waiter's keys become ready in one command (a
 * transaction), the re-run serves the first of them in argument order,
 * where Redis 7.0 serves the one made ready first (the re-run does not
 * know which key woke it).
 *
 * Out of memory.  A push of several elements that the arena stops half
 * way is undone (the pushed elements are popped again), so -OOM leaves the
 * key as it was.  Deletions can be refused too (a listpack that shrinks
 * needs a block of a smaller class; see store_list.c), so pops reply only
 * once the deletion succeeded.  LREM and LTRIM refused half way keep what
 * they had already removed (and answer -OOM).
 */
#include "store_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_list.h"

/* LMOVE copies an element on the stack when source and destination are
 * the same list (a push may move the listpack the element sits in). */
#define STORE_LIST_MOVE_STACK  256


/* ---- shared pieces --------------------------------------------------------- */

#define store_list_arena(c)  store_arena(c)
#define store_list_owner(c)  store_owner(c)


/* "LEFT"/"RIGHT" as a list end; replies a syntax error otherwise. */
static int
store_list_where_or_reply(store_client_t *c, const ob_str_t *a, int *where)
{
    if (store_arg_is(a, "left")) {
        *where = STORE_LIST_HEAD;
        return OB_OK;
    }
    if (store_arg_is(a, "right")) {
        *where = STORE_LIST_TAIL;
        return OB_OK;
    }
    store_add_err(c, STORE_ERR_SYNTAX);
    return OB_ERR;
}


/*
 * Deletes the key of a list that a command left empty, with Redis's "del"
 * event after the command's own (listElementsRemoved): the key's change
 * was already signalled, so this is the notification alone.
 */
static void
store_list_drop_if_empty(store_client_t *c, const ob_str_t *key,
    store_obj_t *o)
{
    if (store_list_len(store_list_of(o)) == 0
        && store_db_delete(c->db, key->data, key->len, store_now_ms(c))
           == OB_OK)
    {
        store_notify(c->st, c->dbid, key, STORE_NOTIFY_GENERIC, "del");
    }
}


/* The end a pop or a push names, as a keyspace event. */
static const char *
store_list_pop_event(int where)
{
    return where == STORE_LIST_HEAD ? "lpop" : "rpop";
}


static const char *
store_list_push_event(int where)
{
    return where == STORE_LIST_HEAD ? "lpush" : "rpush";
}


/* Writes bytes already formatted as RESP (a reply built aside). */
static void
store_list_reply_raw(store_client_t *c, const void *data, size_t len)
{
    if (len > 0 && !c->r.failed && c->r.write(c->r.ctx, data, len) != OB_OK) {
        c->r.failed = 1;
    }
}


/* Up to n elements from the iterator on, as bulks. */
static void
store_list_reply_elems(store_client_t *c, store_list_iter_t *it, size_t n)
{
    store_reply_batch_t  b;
    const uint8_t       *p;
    size_t               len;
    char                 buf[STORE_LIST_INTBUF];

    /* LRANGE of 600 elements is 1800 writes: gathered a buffer at a time */
    store_reply_batch_init(&b, &c->r);
    while (n-- > 0 && store_list_iter_get(it, buf, &p, &len)) {
        store_reply_bulk(&b.r, p, len);
        store_list_iter_next(it);
    }
    store_reply_batch_flush(&b);
}


/*
 * Replies the elements of [start, end] (LRANGE's indexes, negative from
 * the end, clamped as Redis's addListRangeReply does) as an array, from
 * end to start when `reverse`.  Nothing is allocated: the elements go out
 * one by one.
 */
static void
store_list_range_reply(store_client_t *c, store_list_t *l, long long start,
    long long end, int reverse)
{
    store_list_iter_t   it;
    long long           llen = (long long) store_list_len(l), n;

    if (!store_rank_range(&start, &end, llen)) {
        store_reply_array(&c->r, 0);
        return;
    }
    n = end - start + 1;
    store_reply_array(&c->r, (size_t) n);
    store_list_iter_init(l, reverse ? end : start,
                         reverse ? STORE_LIST_HEAD : STORE_LIST_TAIL, &it);
    store_list_reply_elems(c, &it, (size_t) n);
}


/*
 * Pops up to `count` elements from one end of a non-empty list and
 * replies them as an array (LPOP k n, LMPOP, BLMPOP); with `with_key` the
 * array is [key, [elements]].  Then signals the change and deletes an
 * emptied key.  OB_ERR: OOM was replied and the list is as it was.
 *
 * Whole nodes at that end go without fail; the elements beyond them sit
 * in one node whose listpack must shrink, which the arena may refuse.  So
 * those few (one node's worth at most) are replied into a buffer aside
 * and deleted first; only then is anything sent.
 */
static int
store_list_pop_range_reply(store_client_t *c, const ob_str_t *key,
    store_obj_t *o, int where, long long count, int with_key)
{
    ob_arena_t         *a = store_list_arena(c);
    int                 owner = store_list_owner(c);
    store_list_t       *l = store_list_of(o);
    store_list_iter_t   it;
    store_reply_buf_t   aside = { 0 };
    store_reply_t       r;
    size_t              llen = store_list_len(l), n, whole, i, len;
    const uint8_t      *p;
    char                buf[STORE_LIST_INTBUF];
    int                 dir = where == STORE_LIST_HEAD ? STORE_LIST_TAIL
                                                       : STORE_LIST_HEAD;

    n = (unsigned long long) count > llen ? llen : (size_t) count;
    whole = store_list_end_whole(l, where, n);
    if (whole < n) {
        store_reply_init(&r, c->r.proto, store_reply_buf_write, &aside);
        store_list_iter_init(l, where == STORE_LIST_HEAD
                                ? (long long) whole : -1 - (long long) whole,
                             dir, &it);
        for (i = whole; i < n && store_list_iter_get(&it, buf, &p, &len); i++) {
            store_reply_bulk(&r, p, len);
            store_list_iter_next(&it);
        }
        if (r.failed
            || store_list_del_range(a, owner, l,
                                    where == STORE_LIST_HEAD ? whole
                                                             : llen - n,
                                    n - whole) != OB_OK)
        {
            store_reply_buf_free(&aside);
            store_add_err(c, STORE_ERR_OOM);
            return OB_ERR;
        }
    }

    if (with_key) {
        store_reply_array(&c->r, 2);
        store_reply_bulk(&c->r, key->data, key->len);
    }
    store_reply_array(&c->r, n);
    store_list_iter_init(l, where == STORE_LIST_HEAD ? 0 : -1, dir, &it);
    store_list_reply_elems(c, &it, whole);
    store_list_reply_raw(c, aside.data, aside.len);
    store_reply_buf_free(&aside);
    (void) store_list_del_range(a, owner, l,
                                where == STORE_LIST_HEAD
                                ? 0 : store_list_len(l) - whole, whole);

    store_key_changed(c, key, STORE_NOTIFY_LIST, store_list_pop_event(where));
    /* Redis's listElementsRemoved: one change per element, also when a
     * blocked BLMPOP is served */
    store_dirty_add(c, (long long) n - 1);
    store_list_drop_if_empty(c, key, o);
    return OB_OK;
}


/*
 * Pops one element of a non-empty list and replies it, as a bulk or, with
 * `with_key`, as [key, element] (BLPOP).  OB_ERR: OOM was replied and the
 * list is as it was.  The last element of a node goes without fail and is
 * replied before it goes; any other is copied aside first, because its
 * listpack shrinks (and may move, or be refused) before the reply.
 */
static int
store_list_pop_one_reply(store_client_t *c, const ob_str_t *key,
    store_obj_t *o, int where, int with_key)
{
    ob_arena_t          *a = store_list_arena(c);
    int                  owner = store_list_owner(c);
    store_list_t        *l = store_list_of(o);
    store_list_node_t   *end = where == STORE_LIST_HEAD ? l->head : l->tail;
    const uint8_t       *p;
    uint8_t             *copy = NULL;
    uint8_t              stack[STORE_LIST_MOVE_STACK];
    size_t               len;
    char                 buf[STORE_LIST_INTBUF];
    int                  last;

    p = store_list_peek(l, where, buf, &len);
    last = end->count == 1;
    if (!last) {
        if ((const char *) p != buf) {
            copy = len <= sizeof(stack) ? stack : malloc(len);
            if (copy == NULL) {
                store_add_err(c, STORE_ERR_OOM);
                return OB_ERR;
            }
            memcpy(copy, p, len);
            p = copy;
        }
        if (store_list_pop(a, owner, l, where) != OB_OK) {
            if (copy != stack) {
                free(copy);
            }
            store_add_err(c, STORE_ERR_OOM);
            return OB_ERR;
        }
    }
    if (with_key) {
        store_reply_array(&c->r, 2);
        store_reply_bulk(&c->r, key->data, key->len);
    }
    store_reply_bulk(&c->r, p, len);
    if (last) {
        /* the node's own bytes were replied; now the node goes */
        (void) store_list_pop(a, owner, l, where);
    }
    if (copy != NULL && copy != stack) {
        free(copy);
    }
    store_key_changed(c, key, STORE_NOTIFY_LIST, store_list_pop_event(where));
    if (c->flags & STORE_CLIENT_RETRY) {
        /* Redis 7.0 serves a blocked BLPOP/BRPOP (serveClientBlockedOnList)
         * without counting the pop: only the push that woke it counts.
         * It is still propagated, as the LPOP/RPOP the caller asks for. */
        store_dirty_add(c, -1);
    }
    store_list_drop_if_empty(c, key, o);
    return OB_OK;
}


/* ---- pushes ---------------------------------------------------------------- */

/*
 * LPUSH/RPUSH/LPUSHX/RPUSHX key element...: `xx` pushes only onto an
 * existing list.  Replies the new length.
 */
static void
store_list_push_generic(store_client_t *c, int where, int xx)
{
    ob_arena_t    *a = store_list_arena(c);
    int            owner = store_list_owner(c);
    const ob_str_t *key = &c->argv[1];
    store_obj_t   *o;
    store_list_t  *l;
    size_t         j;
    int            wrong, created = 0;

    o = store_lookup_typed(c, key, STORE_OBJ_LIST, 1, &wrong);
    if (o == NULL) {
        if (wrong) {
            return;
        }
        if (xx) {
            store_reply_int(&c->r, 0);
            return;
        }
        o = store_list_obj_new(a, owner);
        if (o == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        created = 1;
    }
    l = store_list_of(o);
    for (j = 2; j < c->argc; j++) {
        if (store_list_push(a, owner, l, c->argv[j].data, c->argv[j].len,
                            where) != OB_OK)
        {
            break;
        }
    }
    if (j == c->argc && created
        && store_db_set(c->db, key->data, key->len, o, 0, store_now_ms(c))
           != OB_OK)
    {
        j = 0;
    }
    if (j != c->argc) {
        /* undo: the key stays as it was */
        if (created) {
            store_obj_free(a, owner, o);
        } else {
            for (; j > 2; j--) {
                (void) store_list_pop(a, owner, l, where);
            }
        }
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_reply_int(&c->r, (long long) store_list_len(l));
    store_key_changed(c, key, STORE_NOTIFY_LIST, store_list_push_event(where));
    /* Redis counts each element pushed (server.dirty += argc - 2) */
    store_dirty_add(c, (long long) c->argc - 3);
    store_key_ready(c, key);
}


static void
store_cmd_lpush(store_client_t *c)
{
    store_list_push_generic(c, STORE_LIST_HEAD, 0);
}


static void
store_cmd_rpush(store_client_t *c)
{
    store_list_push_generic(c, STORE_LIST_TAIL, 0);
}


static void
store_cmd_lpushx(store_client_t *c)
{
    store_list_push_generic(c, STORE_LIST_HEAD, 1);
}


static void
store_cmd_rpushx(store_client_t *c)
{
    store_list_push_generic(c, STORE_LIST_TAIL, 1);
}


/* ---- pops ------------------------------------------------------------------ */

/*
 * LPOP/RPOP key [count]: without count a bulk (null when missing); with
 * it an array (the null array when missing, empty for a count of 0).
 * Redis's arity is -2 and it answers a fourth argument itself.
 */
static void
store_list_pop_generic(store_client_t *c, int where)
{
    const ob_str_t  *key = &c->argv[1];
    store_obj_t     *o;
    long long        count = 0;
    int              hascount = c->argc == 3, wrong;

    if (c->argc > 3) {
        store_add_err_arity(c, where == STORE_LIST_HEAD ? "lpop" : "rpop");
        return;
    }
    /* Redis's getPositiveLongFromObjectOrReply: "must be positive" also
     * for what is not a number at all */
    if (hascount
        && store_get_range_ll_or_reply(c, &c->argv[2], 0, LLONG_MAX, &count,
                                       STORE_ERR_POSITIVE) != OB_OK)
    {
        return;
    }
    o = store_lookup_typed(c, key, STORE_OBJ_LIST, 1, &wrong);
    if (o == NULL) {
        if (!wrong) {
            if (hascount) {
                store_reply_null_array(&c->r);
            } else {
                store_reply_null(&c->r);
            }
        }
        return;
    }
    if (hascount && count == 0) {
        store_reply_array(&c->r, 0);
        return;
    }
    if (!hascount) {
        store_list_pop_one_reply(c, key, o, where, 0);
    } else {
        store_list_pop_range_reply(c, key, o, where, count, 0);
    }
}


static void
store_cmd_lpop(store_client_t *c)
{
    store_list_pop_generic(c, STORE_LIST_HEAD);
}


static void
store_cmd_rpop(store_client_t *c)
{
    store_list_pop_generic(c, STORE_LIST_TAIL);
}


/* ---- reads ------------------------------------------------------------------ */

static void
store_cmd_llen(store_client_t *c)
{
    store_obj_t  *o;
    int           wrong;

    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_LIST, 0, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_int(&c->r, 0);
        }
        return;
    }
    store_reply_int(&c->r, (long long) store_list_len(store_list_of(o)));
}


/* LRANGE key start stop: the numbers are parsed before the key is looked
 * up. */
static void
store_cmd_lrange(store_client_t *c)
{
    store_obj_t  *o;
    long long     start, end;
    int           wrong;

    if (store_get_ll_or_reply(c, &c->argv[2], &start, NULL) != OB_OK
        || store_get_ll_or_reply(c, &c->argv[3], &end, NULL) != OB_OK)
    {
        return;
    }
    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_LIST, 0, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_array(&c->r, 0);
        }
        return;
    }
    store_list_range_reply(c, store_list_of(o), start, end, 0);
}


/* LINDEX key index: the key (and its type) before the index. */
static void
store_cmd_lindex(store_client_t *c)
{
    store_obj_t        *o;
    store_list_iter_t   it;
    long long           index;
    const uint8_t      *p;
    size_t              len;
    char                buf[STORE_LIST_INTBUF];
    int                 wrong;

    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_LIST, 0, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_null(&c->r);
        }
        return;
    }
    if (store_get_ll_or_reply(c, &c->argv[2], &index, NULL) != OB_OK) {
        return;
    }
    store_list_iter_init(store_list_of(o), index, STORE_LIST_TAIL, &it);
    if (!store_list_iter_get(&it, buf, &p, &len)) {
        store_reply_null(&c->r);
        return;
    }
    store_reply_bulk(&c->r, p, len);
}


/*
 * One LPOS scan: walks from the head (or the tail for a negative rank)
 * over at most maxlen elements, and for each match from the rank-th on
 * calls back with its index, until `count` of them (0: all).  Returns the
 * number of matches given.  LPOS with COUNT scans twice, once to count
 * and once to reply, rather than collect the indexes in memory: the reply
 * writer needs the array's length first.
 */
static long long
store_list_pos_scan(store_client_t *c, store_list_t *l, const ob_str_t *ele,
    long long rank, long long count, long long maxlen, int reply)
{
    store_list_iter_t  it;
    long long          llen = (long long) store_list_len(l);
    long long          index, matches = 0, given = 0;
    int                dir = STORE_LIST_TAIL, unbounded = 0;

    if (rank == LLONG_MIN) {
        /*
         * Redis negates the rank in a long: LLONG_MIN stays itself, so
         * every match is past it and the COUNT test never stops the scan.
         */
        dir = STORE_LIST_HEAD;
        rank = 1;
        unbounded = 1;
    } else if (rank < 0) {
        dir = STORE_LIST_HEAD;
        rank = -rank;
    }
    store_list_iter_init(l, dir == STORE_LIST_HEAD ? -1 : 0, dir, &it);
    for (index = 0; it.node != NULL && (maxlen == 0 || index < maxlen);
         index++, store_list_iter_next(&it))
    {
        if (!store_list_iter_eq(&it, ele->data, ele->len)) {
            continue;
        }
        matches++;
        if (matches < rank) {
            continue;
        }
        given++;
        if (reply) {
            store_reply_int(&c->r, dir == STORE_LIST_TAIL ? index
                                                          : llen - index - 1);
        }
        if (count == -1 || (!unbounded && count != 0 && given >= count)) {
            break;
        }
    }
    return given;
}


/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
static void
store_cmd_lpos(store_client_t *c)
{
    store_obj_t  *o;
    store_list_t *l;
    long long     rank = 1, count = -1, maxlen = 0, n;
    size_t        j;
    int           wrong;

    for (j = 3; j < c->argc; j++) {
        int  more = j + 1 < c->argc;

        if (store_arg_is(&c->argv[j], "rank") && more) {
            j++;
            if (store_get_ll_or_reply(c, &c->argv[j], &rank, NULL) != OB_OK) {
                return;
            }
            if (rank == 0) {
                store_add_err(c, "ERR RANK can't be zero: use 1 to start from "
                              "the first match, 2 from the second ... or use "
                              "negative to start from the end of the list");
                return;
            }
        } else if (store_arg_is(&c->argv[j], "count") && more) {
            j++;
            if (store_get_ll_or_reply(c, &c->argv[j], &count,
                                      "ERR COUNT can't be negative") != OB_OK)
            {
                return;
            }
            if (count < 0) {
                store_add_err(c, "ERR COUNT can't be negative");
                return;
            }
        } else if (store_arg_is(&c->argv[j], "maxlen") && more) {
            j++;
            if (store_get_ll_or_reply(c, &c->argv[j], &maxlen,
                                      "ERR MAXLEN can't be negative") != OB_OK)
            {
                return;
            }
            if (maxlen < 0) {
                store_add_err(c, "ERR MAXLEN can't be negative");
                return;
            }
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }

    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_LIST, 0, &wrong);
    if (o == NULL) {
        if (!wrong) {
            if (count != -1) {
                store_reply_array(&c->r, 0);
            } else {
                store_reply_null(&c->r);
            }
        }
        return;
    }
    l = store_list_of(o);
    if (count != -1) {
        n = store_list_pos_scan(c, l, &c->argv[2], rank, count, maxlen, 0);
        store_reply_array(&c->r, (size_t) n);
        (void) store_list_pos_scan(c, l, &c->argv[2], rank, count, maxlen, 1);
        return;
    }
    if (store_list_pos_scan(c, l, &c->argv[2], rank, -1, maxlen, 1) == 0) {
        store_reply_null(&c->r);
    }
}


/* ---- changes in place ------------------------------------------------------- */

/* LSET key index element */
static void
store_cmd_lset(store_client_t *c)
{
    store_obj_t  *o;
    long long     index;
    int           wrong, rc;

    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_LIST, 1, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_add_err(c, STORE_ERR_NO_KEY);
        }
        return;
    }
    if (store_get_ll_or_reply(c, &c->argv[2], &index, NULL) != OB_OK) {
        return;
    }
    rc = store_list_set(store_list_arena(c), store_list_owner(c),
                        store_list_of(o), index, c->argv[3].data,
                        c->argv[3].len);
    if (rc == OB_DECLINED) {
        store_add_err(c, STORE_ERR_INDEX);
        return;
    }
    if (rc != OB_OK) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_add_ok(c);
    store_key_changed(c, &c->argv[1], STORE_NOTIFY_LIST, "lset");
}


/* LINSERT key BEFORE|AFTER pivot element: the position word is checked
 * before the key. */
static void
store_cmd_linsert(store_client_t *c)
{
    store_obj_t        *o;
    store_list_t       *l;
    store_list_iter_t   it;
    int                 after, wrong;

    if (store_arg_is(&c->argv[2], "after")) {
        after = 1;
    } else if (store_arg_is(&c->argv[2], "before")) {
        after = 0;
    } else {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_LIST, 1, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_int(&c->r, 0);
        }
        return;
    }
    l = store_list_of(o);
    for (store_list_iter_init(l, 0, STORE_LIST_TAIL, &it); it.node != NULL;
         store_list_iter_next(&it))
    {
        if (store_list_iter_eq(&it, c->argv[3].data, c->argv[3].len)) {
            break;
        }
    }
    if (it.node == NULL) {
        store_reply_int(&c->r, -1);
        return;
    }
    if (store_list_iter_insert(store_list_arena(c), store_list_owner(c), &it,
                               after, c->argv[4].data, c->argv[4].len)
        != OB_OK)
    {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_key_changed(c, &c->argv[1], STORE_NOTIFY_LIST, "linsert");
    store_reply_int(&c->r, (long long) store_list_len(l));
}


/* LREM key count element: count > 0 from the head, < 0 from the tail,
 * 0 all. */
static void
store_cmd_lrem(store_client_t *c)
{
    store_obj_t        *o;
    store_list_iter_t   it;
    long long           toremove, removed = 0;
    int                 wrong, dir = STORE_LIST_TAIL, oom = 0;

    if (store_get_ll_or_reply(c, &c->argv[2], &toremove, NULL) != OB_OK) {
        return;
    }
    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_LIST, 1, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_int(&c->r, 0);
        }
        return;
    }
    if (toremove < 0) {
        /* -LLONG_MIN does not exist; no list is that long anyway */
        toremove = toremove == LLONG_MIN ? LLONG_MAX : -toremove;
        dir = STORE_LIST_HEAD;
    }
    store_list_iter_init(store_list_of(o), dir == STORE_LIST_HEAD ? -1 : 0,
                         dir, &it);
    while (it.node != NULL) {
        if (!store_list_iter_eq(&it, c->argv[3].data, c->argv[3].len)) {
            store_list_iter_next(&it);
            continue;
        }
        if (store_list_iter_del(store_list_arena(c), store_list_owner(c), &it)
            != OB_OK)
        {
            oom = 1;
            break;
        }
        removed++;
        if (toremove != 0 && removed == toremove) {
            break;
        }
    }
    if (removed > 0) {
        store_key_changed(c, &c->argv[1], STORE_NOTIFY_LIST, "lrem");
        store_dirty_add(c, removed - 1);        /* one per element */
    }
    store_list_drop_if_empty(c, &c->argv[1], o);
    if (oom) {
        /* what went before the refusal stays gone, as a partial LREM */
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_reply_int(&c->r, removed);
}


/* LTRIM key start stop */
static void
store_cmd_ltrim(store_client_t *c)
{
    store_obj_t   *o;
    store_list_t  *l;
    long long      start, end, llen, ltrim, rtrim;
    int            wrong, oom = 0;

    if (store_get_ll_or_reply(c, &c->argv[2], &start, NULL) != OB_OK
        || store_get_ll_or_reply(c, &c->argv[3], &end, NULL) != OB_OK)
    {
        return;
    }
    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_LIST, 1, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_add_ok(c);
        }
        return;
    }
    l = store_list_of(o);
    llen = (long long) store_list_len(l);
    if (!store_rank_range(&start, &end, llen)) {
        /* empty: everything goes, and the key with it */
        ltrim = llen;
        rtrim = 0;
    } else {
        ltrim = start;
        rtrim = llen - end - 1;
    }
    /* each range reaches an end: each is all or nothing */
    if (store_list_del_range(store_list_arena(c), store_list_owner(c), l, 0,
                             (size_t) ltrim) != OB_OK)
    {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    if (rtrim > 0
        && store_list_del_range(store_list_arena(c), store_list_owner(c), l,
                                store_list_len(l) - (size_t) rtrim,
                                (size_t) rtrim) != OB_OK)
    {
        oom = 1;
    }
    store_key_changed(c, &c->argv[1], STORE_NOTIFY_LIST, "ltrim");
    /* Redis counts each element removed (dirty += ltrim + rtrim); a
     * refused right trim removed nothing */
    store_dirty_add(c, ltrim + (oom ? 0 : rtrim) - 1);
    if (ltrim + rtrim == 0) {
        /* WATCHers and subscribers hear of it, but Redis counts no change
         * (dirty += ltrim + rtrim) and so writes nothing */
        store_propagate_nothing(c);
    }
    store_list_drop_if_empty(c, &c->argv[1], o);
    if (oom) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_add_ok(c);
}


/* ---- moves between lists ---------------------------------------------------- */

/*
 * The common part of LMOVE, RPOPLPUSH and their blocking forms once the
 * source is known to be a non-empty list: checks the destination's type,
 * pushes a copy of the source's end element there (creating the list),
 * and only then pops the source (undoing the push if that pop is
 * refused), so a refused allocation changes nothing.  Replies the
 * element.  OB_OK moved; OB_ERR replied an error, nothing changed.
 */
static int
store_list_move(store_client_t *c, store_obj_t *src, int wherefrom,
    int whereto)
{
    ob_arena_t      *a = store_list_arena(c);
    int              owner = store_list_owner(c);
    const ob_str_t  *skey = &c->argv[1], *dkey = &c->argv[2];
    store_obj_t     *dst;
    const uint8_t   *p;
    uint8_t         *copy = NULL;
    uint8_t          stack[STORE_LIST_MOVE_STACK];
    size_t           len;
    char             buf[STORE_LIST_INTBUF];
    int              wrong, created = 0, rc;

    dst = store_lookup_typed(c, dkey, STORE_OBJ_LIST, 1, &wrong);
    if (dst == NULL && wrong) {
        return OB_ERR;
    }
    p = store_list_peek(store_list_of(src), wherefrom, buf, &len);
    if (dst == src && (const char *) p != buf) {
        /* a rotation: the push may move the bytes p points to */
        copy = len <= sizeof(stack) ? stack : malloc(len);
        if (copy == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return OB_ERR;
        }
        memcpy(copy, p, len);
        p = copy;
    }
    if (dst == NULL) {
        dst = store_list_obj_new(a, owner);
        if (dst == NULL) {
            goto oom;
        }
        created = 1;
    }
    rc = store_list_push(a, owner, store_list_of(dst), p, len, whereto);
    if (rc == OB_OK && created
        && store_db_set(c->db, dkey->data, dkey->len, dst, 0, store_now_ms(c))
           != OB_OK)
    {
        (void) store_list_pop(a, owner, store_list_of(dst), whereto);
        rc = OB_ERR;
    }
    if (rc != OB_OK) {
        if (created) {
            store_obj_free(a, owner, dst);
        }
        goto oom;
    }

    if (store_list_pop(a, owner, store_list_of(src), wherefrom) != OB_OK) {
        /* undo the push: a shrink back to the block just given up */
        (void) store_list_pop(a, owner, store_list_of(dst), whereto);
        if (created) {
            (void) store_db_delete(c->db, dkey->data, dkey->len,
                                   store_now_ms(c));
        }
        goto oom;
    }
    if (dst != src) {
        /* the source's bytes may be gone: the copy just pushed is not */
        p = store_list_peek(store_list_of(dst), whereto, buf, &len);
    }
    store_reply_bulk(&c->r, p, len);
    if (copy != NULL && copy != stack) {
        free(copy);
    }
    store_key_changed(c, dkey, STORE_NOTIFY_LIST, store_list_push_event(whereto));
    store_key_ready(c, dkey);
    store_key_changed(c, skey, STORE_NOTIFY_LIST, store_list_pop_event(wherefrom));
    /*
     * Redis counts a move as one change (lmoveGenericCommand's
     * server.dirty++), not one per key; a blocked BLMOVE/BRPOPLPUSH that
     * is served (serveClientBlockedOnList) counts none, its LMOVE /
     * RPOPLPUSH being propagated all the same.
     */
    store_dirty_add(c, (c->flags & STORE_CLIENT_RETRY) ? -2 : -1);
    store_list_drop_if_empty(c, skey, src);
    return OB_OK;

oom:
    if (copy != NULL && copy != stack) {
        free(copy);
    }
    store_add_err(c, STORE_ERR_OOM);
    return OB_ERR;
}


/* LMOVE/RPOPLPUSH: a missing source answers null whatever the
 * destination holds. */
static void
store_list_move_generic(store_client_t *c, int wherefrom, int whereto)
{
    store_obj_t  *src;
    int           wrong;

    src = store_lookup_typed(c, &c->argv[1], STORE_OBJ_LIST, 1, &wrong);
    if (src == NULL) {
        if (!wrong) {
            store_reply_null(&c->r);
        }
        return;
    }
    store_list_move(c, src, wherefrom, whereto);
}


static void
store_cmd_lmove(store_client_t *c)
{
    int  wherefrom, whereto;

    if (store_list_where_or_reply(c, &c->argv[3], &wherefrom) != OB_OK
        || store_list_where_or_reply(c, &c->argv[4], &whereto) != OB_OK)
    {
        return;
    }
    store_list_move_generic(c, wherefrom, whereto);
}


static void
store_cmd_rpoplpush(store_client_t *c)
{
    store_list_move_generic(c, STORE_LIST_TAIL, STORE_LIST_HEAD);
}


/* ---- LMPOP and the blocking pops ------------------------------------------- */

/*
 * What a blocking pop or an [B]LMPOP becomes in the AOF and on the
 * replicas (Redis 7.0): the plain pop of the key that was served, LPOP
 * key / RPOP key for BLPOP and BRPOP, LPOP key <n> / RPOP key <n> with
 * the number actually popped for the MPOP forms (n >= 0).
 */
static void
store_list_propagate_pop(store_client_t *c, const ob_str_t *key, int where,
    long long n)
{
    ob_str_t  argv[3];
    char      num[32];

    argv[0].data = (const uint8_t *) (where == STORE_LIST_HEAD ? "LPOP"
                                                               : "RPOP");
    argv[0].len = 4;
    argv[1] = *key;
    if (n < 0) {
        store_propagate_cmd(c, argv, 2);
        return;
    }
    argv[2].len = (size_t) snprintf(num, sizeof(num), "%lld", n);
    argv[2].data = (const uint8_t *) num;
    store_propagate_cmd(c, argv, 3);
}


/*
 * Serves the first non-empty list of keys[0..nkeys): one element (count
 * -1: BLPOP's [key, element]) or up to count ([key, [elements]]).  OB_OK
 * served; OB_DECLINED all empty or missing; OB_ERR replied WRONGTYPE.  On
 * a blocked command's re-run a key of another type is passed over.
 */
static int
store_list_serve_first(store_client_t *c, const ob_str_t *keys, size_t nkeys,
    int where, long long count)
{
    store_obj_t     *o;
    size_t           j, llen;
    long long        n;
    const ob_str_t  *ready = store_ready_key(c);

    if (ready != NULL) {
        keys = ready;           /* a re-run serves from the woken key */
        nkeys = 1;
    }
    for (j = 0; j < nkeys; j++) {
        o = store_lookup_write(c, &keys[j]);
        if (o == NULL) {
            continue;
        }
        if (o->type != STORE_OBJ_LIST) {
            if (c->flags & STORE_CLIENT_RETRY) {
                continue;
            }
            store_add_err(c, STORE_ERR_WRONGTYPE);
            return OB_ERR;
        }
        llen = store_list_len(store_list_of(o));
        if (llen == 0) {
            continue;
        }
        if (count == -1) {
            if (store_list_pop_one_reply(c, &keys[j], o, where, 1) == OB_OK) {
                store_list_propagate_pop(c, &keys[j], where, -1);
            }
        } else {
            n = (unsigned long long) count > llen ? (long long) llen : count;
            if (store_list_pop_range_reply(c, &keys[j], o, where, count, 1)
                == OB_OK)
            {
                store_list_propagate_pop(c, &keys[j], where, n);
            }
        }
        return OB_OK;
    }
    return OB_DECLINED;
}


/* BLPOP/BRPOP key... timeout: the timeout is parsed first. */
static void
store_list_bpop_generic(store_client_t *c, int where)
{
    int64_t  deadline;

    if (store_get_timeout_or_reply(c, &c->argv[c->argc - 1], &deadline)
        != OB_OK)
    {
        return;
    }
    if (store_list_serve_first(c, &c->argv[1], c->argc - 2, where, -1)
        != OB_DECLINED)
    {
        return;
    }
    store_block(c, &c->argv[1], c->argc - 2, deadline, NULL);
}


static void
store_cmd_blpop(store_client_t *c)
{
    store_list_bpop_generic(c, STORE_LIST_HEAD);
}


static void
store_cmd_brpop(store_client_t *c)
{
    store_list_bpop_generic(c, STORE_LIST_TAIL);
}


/*
 * [B]LMPOP [timeout] numkeys key... LEFT|RIGHT [COUNT count], numkeys at
 * argv[numkeys_idx].  Redis checks numkeys, the end and COUNT before the
 * timeout.
 */
static void
store_list_mpop_generic(store_client_t *c, size_t numkeys_idx, int block)
{
    long long  numkeys, count = -1;
    size_t     where_idx, j;
    int64_t    deadline = 0;
    int        where;

    if (store_get_range_ll_or_reply(c, &c->argv[numkeys_idx], 1, LLONG_MAX,
                                    &numkeys,
                                    "ERR numkeys should be greater than 0")
        != OB_OK)
    {
        return;
    }
    if ((unsigned long long) numkeys >= c->argc - numkeys_idx - 1) {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    where_idx = numkeys_idx + (size_t) numkeys + 1;
    if (store_list_where_or_reply(c, &c->argv[where_idx], &where) != OB_OK) {
        return;
    }
    for (j = where_idx + 1; j < c->argc; j++) {
        if (count == -1 && store_arg_is(&c->argv[j], "count")
            && j + 1 < c->argc)
        {
            j++;
            if (store_get_range_ll_or_reply(c, &c->argv[j], 1, LLONG_MAX,
                                            &count,
                                            "ERR count should be greater "
                                            "than 0")
                != OB_OK)
            {
                return;
            }
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    if (count == -1) {
        count = 1;
    }
    if (block
        && store_get_timeout_or_reply(c, &c->argv[1], &deadline) != OB_OK)
    {
        return;
    }
    if (store_list_serve_first(c, &c->argv[numkeys_idx + 1], (size_t) numkeys,
                               where, count)
        != OB_DECLINED)
    {
        return;
    }
    if (!block) {
        store_reply_null_array(&c->r);
        return;
    }
    store_block(c, &c->argv[numkeys_idx + 1], (size_t) numkeys, deadline,
                NULL);
}


static void
store_cmd_lmpop(store_client_t *c)
{
    store_list_mpop_generic(c, 1, 0);
}


static void
store_cmd_blmpop(store_client_t *c)
{
    store_list_mpop_generic(c, 2, 1);
}


/*
 * BLMOVE/BRPOPLPUSH: a missing source blocks whatever the destination
 * holds; a source of another type is WRONGTYPE, but on a re-run it only
 * keeps the client waiting.  Inside a transaction an empty source answers
 * the null bulk (Redis's blmoveGenericCommand), not the null array that
 * the list pops and a timeout answer.
 */
static void
store_list_bmove_generic(store_client_t *c, int wherefrom, int whereto,
    const ob_str_t *timeout)
{
    store_obj_t  *src;
    int64_t       deadline;

    if (store_get_timeout_or_reply(c, timeout, &deadline) != OB_OK) {
        return;
    }
    src = store_lookup_write(c, &c->argv[1]);
    if (src != NULL && src->type != STORE_OBJ_LIST
        && !(c->flags & STORE_CLIENT_RETRY))
    {
        store_add_err(c, STORE_ERR_WRONGTYPE);
        return;
    }
    if (src != NULL && src->type == STORE_OBJ_LIST
        && store_list_len(store_list_of(src)) > 0)
    {
        if (store_list_move(c, src, wherefrom, whereto) == OB_OK) {
            /* written as the non-blocking form (BLMOVE -> LMOVE with the
             * client's own where arguments, BRPOPLPUSH -> RPOPLPUSH) */
            ob_str_t  argv[5] = { { 5, (const uint8_t *) "LMOVE" },
                                  c->argv[1], c->argv[2] };

            if (c->argc == 6) {
                argv[3] = c->argv[3];
                argv[4] = c->argv[4];
                store_propagate_cmd(c, argv, 5);
            } else {
                argv[0].data = (const uint8_t *) "RPOPLPUSH";
                argv[0].len = 9;
                store_propagate_cmd(c, argv, 3);
            }
        }
        return;
    }
    if (c->flags & STORE_CLIENT_IN_EXEC) {
        store_reply_null(&c->r);
        return;
    }
    store_block(c, &c->argv[1], 1, deadline, NULL);
}


static void
store_cmd_blmove(store_client_t *c)
{
    int  wherefrom, whereto;

    if (store_list_where_or_reply(c, &c->argv[3], &wherefrom) != OB_OK
        || store_list_where_or_reply(c, &c->argv[4], &whereto) != OB_OK)
    {
        return;
    }
    store_list_bmove_generic(c, wherefrom, whereto, &c->argv[5]);
}


static void
store_cmd_brpoplpush(store_client_t *c)
{
    store_list_bmove_generic(c, STORE_LIST_TAIL, STORE_LIST_HEAD, &c->argv[3]);
}


/* ---- the table -------------------------------------------------------------- */

#define STORE_LIST_W     (OB_CMD_WRITE)
#define STORE_LIST_WD    (OB_CMD_WRITE | STORE_CMD_DENYOOM)
#define STORE_LIST_WDF   (OB_CMD_WRITE | STORE_CMD_DENYOOM | OB_CMD_FAST)
#define STORE_LIST_BLK   (STORE_CMD_NOSCRIPT | STORE_CMD_BLOCKING)

const store_cmd_t store_cmds_list[] = {
    { .base = { .name = "lpush", .arity_min = 3, .arity_max = -1,
                .flags = STORE_LIST_WDF },
      .handler = store_cmd_lpush, .keys = { 1, 1, 1 },
      .acl = "@write @list @fast" },
    { .base = { .name = "rpush", .arity_min = 3, .arity_max = -1,
                .flags = STORE_LIST_WDF },
      .handler = store_cmd_rpush, .keys = { 1, 1, 1 },
      .acl = "@write @list @fast" },
    { .base = { .name = "lpushx", .arity_min = 3, .arity_max = -1,
                .flags = STORE_LIST_WDF },
      .handler = store_cmd_lpushx, .keys = { 1, 1, 1 },
      .acl = "@write @list @fast" },
    { .base = { .name = "rpushx", .arity_min = 3, .arity_max = -1,
                .flags = STORE_LIST_WDF },
      .handler = store_cmd_rpushx, .keys = { 1, 1, 1 },
      .acl = "@write @list @fast" },
    { .base = { .name = "lpop", .arity_min = 2, .arity_max = -1,
                .flags = OB_CMD_WRITE | OB_CMD_FAST },
      .handler = store_cmd_lpop, .keys = { 1, 1, 1 },
      .acl = "@write @list @fast" },
    { .base = { .name = "rpop", .arity_min = 2, .arity_max = -1,
                .flags = OB_CMD_WRITE | OB_CMD_FAST },
      .handler = store_cmd_rpop, .keys = { 1, 1, 1 },
      .acl = "@write @list @fast" },
    { .base = { .name = "llen", .arity_min = 2, .arity_max = 2,
                .flags = OB_CMD_READONLY | OB_CMD_FAST },
      .handler = store_cmd_llen, .keys = { 1, 1, 1 },
      .acl = "@read @list @fast" },
    { .base = { .name = "lrange", .arity_min = 4, .arity_max = 4,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_lrange, .keys = { 1, 1, 1 },
      .acl = "@read @list @slow" },
    { .base = { .name = "lindex", .arity_min = 3, .arity_max = 3,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_lindex, .keys = { 1, 1, 1 },
      .acl = "@read @list @slow" },
    { .base = { .name = "lset", .arity_min = 4, .arity_max = 4,
                .flags = STORE_LIST_WD },
      .handler = store_cmd_lset, .keys = { 1, 1, 1 },
      .acl = "@write @list @slow" },
    { .base = { .name = "linsert", .arity_min = 5, .arity_max = 5,
                .flags = STORE_LIST_WD },
      .handler = store_cmd_linsert, .keys = { 1, 1, 1 },
      .acl = "@write @list @slow" },
    { .base = { .name = "lrem", .arity_min = 4, .arity_max = 4,
                .flags = STORE_LIST_W },
      .handler = store_cmd_lrem, .keys = { 1, 1, 1 },
      .acl = "@write @list @slow" },
    { .base = { .name = "ltrim", .arity_min = 4, .arity_max = 4,
                .flags = STORE_LIST_W },
      .handler = store_cmd_ltrim, .keys = { 1, 1, 1 },
      .acl = "@write @list @slow" },
    { .base = { .name = "lpos", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_lpos, .keys = { 1, 1, 1 },
      .acl = "@read @list @slow" },
    { .base = { .name = "lmove", .arity_min = 5, .arity_max = 5,
                .flags = STORE_LIST_WD },
      .handler = store_cmd_lmove, .keys = { 1, 2, 1 },
      .acl = "@write @list @slow" },
    { .base = { .name = "rpoplpush", .arity_min = 3, .arity_max = 3,
                .flags = STORE_LIST_WD },
      .handler = store_cmd_rpoplpush, .keys = { 1, 2, 1 },
      .acl = "@write @list @slow" },
    { .base = { .name = "lmpop", .arity_min = 4, .arity_max = -1,
                .flags = STORE_LIST_W | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_lmpop, .keys = { 0, 0, 0 },
      .acl = "@write @list @slow" },
    { .base = { .name = "blpop", .arity_min = 3, .arity_max = -1,
                .flags = STORE_LIST_W | STORE_LIST_BLK },
      .handler = store_cmd_blpop, .keys = { 1, -2, 1 },
      .acl = "@write @list @slow @blocking" },
    { .base = { .name = "brpop", .arity_min = 3, .arity_max = -1,
                .flags = STORE_LIST_W | STORE_LIST_BLK },
      .handler = store_cmd_brpop, .keys = { 1, -2, 1 },
      .acl = "@write @list @slow @blocking" },
    { .base = { .name = "blmove", .arity_min = 6, .arity_max = 6,
                .flags = STORE_LIST_WD | STORE_LIST_BLK },
      .handler = store_cmd_blmove, .keys = { 1, 2, 1 },
      .acl = "@write @list @slow @blocking" },
    { .base = { .name = "brpoplpush", .arity_min = 4, .arity_max = 4,
                .flags = STORE_LIST_WD | STORE_LIST_BLK },
      .handler = store_cmd_brpoplpush, .keys = { 1, 2, 1 },
      .acl = "@write @list @slow @blocking" },
    { .base = { .name = "blmpop", .arity_min = 5, .arity_max = -1,
                .flags = OB_CMD_WRITE | STORE_CMD_BLOCKING
                         | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_blmpop, .keys = { 0, 0, 0 },
      .acl = "@write @list @slow @blocking" },
    { .base = { .name = NULL } }
};
