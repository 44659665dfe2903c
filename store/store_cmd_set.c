/*
 * store_cmd_set.c: the set commands, Redis 7.0's t_set.c over store_set.h:
 * SADD SREM SISMEMBER SMISMEMBER SMEMBERS SCARD SPOP SRANDMEMBER SMOVE
 * SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN.
 *
 * Replies follow 7.0 byte for byte: SMEMBERS, SINTER, SUNION, SDIFF and
 * SPOP with a count answer a RESP3 set ("~"), SRANDMEMBER with a count an
 * array; argument errors come in Redis's order (a count is parsed before
 * the key is looked up, SSCAN's cursor before the key and its options
 * after).  Keyspace events are Redis's: SMOVE sends "srem" and "sadd"
 * (there is no "smove" event), a set emptied by a command sends "del".
 *
 * Reply sizes.  Our replies have no deferred length (Redis's
 * addReplyDeferredLen), so a command whose result size is unknown first
 * collects it: SINTER into a vector of borrowed elements, SUNION and SDIFF
 * into a new set (as Redis does), then writes.  SRANDMEMBER with a
 * negative count writes element by element and stops as soon as the
 * connection refuses more output, so `SRANDMEMBER k -9223372036854775807`
 * allocates nothing and ends at the output limit.
 *
 * Randomness.  A hashtable set keeps its members in a dense array
 * (store_set.c), so a random member is one index.  SRANDMEMBER with a
 * positive count shuffles a prefix of the positions (a partial
 * Fisher-Yates: distinct, uniform, O(count), no copy of the set); SPOP
 * removes random positions.  Redis's SPOP, for counts near the size,
 * rebuilds the set from what remains, which turns an all-integer
 * hashtable back into an intset; we convert the same way so that OBJECT
 * ENCODING agrees.
 */
#include "store_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_glob.h"
#include "store_set.h"

/* Redis's SPOP_MOVE_STRATEGY_MUL: SPOP rebuilds the set when what remains
 * times this is at most the count. */
#define STORE_SPOP_MOVE_MUL   5
/* Sets looked up on the stack before a command mallocs its array. */
#define STORE_SET_STACK_KEYS  16

#define STORE_ERR_SRAND_RANGE  "ERR value is out of range, value must " \
                               "between -9223372036854775807 and " \
                               "9223372036854775807"


/* ---- helpers ----------------------------------------------------------- */

/* A uniform integer in [0, n), n > 0 (rejection sampling, no modulo
 * bias). */
static size_t
store_set_rand_below(store_client_t *c, size_t n)
{
    uint64_t  r, lim = UINT64_MAX - UINT64_MAX % (uint64_t) n;

    do {
        r = store_random(c);
    } while (r >= lim);
    return (size_t) (r % (uint64_t) n);
}


static void
store_set_reply_elem(store_reply_t *r, const store_set_elem_t *e)
{
    char        buf[STORE_OBJ_INTBUF];
    const char *p;
    size_t      len;

    p = store_set_elem_bytes(e, buf, &len);
    store_reply_bulk(r, p, len);
}


/* Every member of o, after a set ("~n") or array header. */
static void
store_set_reply_all(store_client_t *c, const store_obj_t *o, int as_set)
{
    store_reply_batch_t  b;
    store_set_elem_t     e;
    size_t               i, n = store_set_size(o);

    if (as_set) {
        store_reply_set(&c->r, n);
    } else {
        store_reply_array(&c->r, n);
    }
    store_reply_batch_init(&b, &c->r);
    for (i = 0; i < n && !b.r.failed; i++) {
        store_set_get(o, i, &e);
        store_set_reply_elem(&b.r, &e);
    }
    store_reply_batch_flush(&b);
}


/* Deletes key when its set was emptied, with Redis's "del" event. */
static void
store_set_delete_if_empty(store_client_t *c, const ob_str_t *key,
    const store_obj_t *o)
{
    if (store_set_size(o) == 0) {
        (void) store_db_delete(c->db, key->data, key->len, store_now_ms(c));
        store_notify(c->st, c->dbid, key, STORE_NOTIFY_GENERIC, "del");
    }
}


/* The set at key for reading: NULL when missing (*wrong 0) or of another
 * type (*wrong 1, WRONGTYPE replied). */
static store_obj_t *
store_set_lookup(store_client_t *c, const ob_str_t *key, int for_write,
    int *wrong)
{
    return store_lookup_typed(c, key, STORE_OBJ_SET, for_write, wrong);
}


/* A growable vector of borrowed elements (malloc'd: it lives for one
 * command, and never in the arena, whose budget is for data). */
typedef struct store_set_vec_s {
    store_set_elem_t  *v;
    size_t             n;
    size_t             cap;
    int                failed;       /* a push could not grow it */
} store_set_vec_t;


static void
store_set_vec_push(store_set_vec_t *vec, const store_set_elem_t *e)
{
    store_set_elem_t  *v;
    size_t             cap;

    if (vec->failed) {
        return;
    }
    if (vec->n == vec->cap) {
        cap = vec->cap ? vec->cap * 2 : 16;
        v = realloc(vec->v, cap * sizeof(*v));
        if (v == NULL) {
            vec->failed = 1;
            return;
        }
        vec->v = v;
        vec->cap = cap;
    }
    vec->v[vec->n++] = *e;
}


/*
 * Looks up `n` keys for a multi-key command into sets[] (NULL: missing).
 * OB_ERR when one holds another type: WRONGTYPE was replied (Redis checks
 * them in order and stops at the first).
 */
static int
store_set_gather_or_reply(store_client_t *c, const ob_str_t *keys, size_t n,
    store_obj_t **sets)
{
    size_t  i;
    int     wrong;

    for (i = 0; i < n; i++) {
        sets[i] = store_set_lookup(c, &keys[i], 0, &wrong);
        if (wrong) {
            return OB_ERR;
        }
    }
    return OB_OK;
}


/* sets[] for n keys: the stack array, or a malloc'd one (NULL on failure:
 * OOM replied). */
static store_obj_t **
store_set_array_or_reply(store_client_t *c, store_obj_t **stack, size_t n)
{
    store_obj_t  **sets;

    if (n <= STORE_SET_STACK_KEYS) {
        return stack;
    }
    sets = malloc(n * sizeof(*sets));
    if (sets == NULL) {
        store_add_err(c, STORE_ERR_OOM);
    }
    return sets;
}


static void
store_set_array_free(store_obj_t **sets, store_obj_t **stack)
{
    if (sets != stack) {
        free(sets);
    }
}


/*
 * Stores a STORE form's result at dst (replacing any value and its TTL,
 * as Redis's setKey) and replies its size, or, for an empty result,
 * deletes dst and replies 0.  Takes `o` (freed on every path but success).
 */
static void
store_set_store_result(store_client_t *c, const ob_str_t *dst, store_obj_t *o,
    const char *event)
{
    ob_arena_t  *a = store_arena(c);
    int          owner = store_owner(c);
    size_t       n = store_set_size(o);

    if (n == 0) {
        store_obj_free(a, owner, o);
        if (store_db_delete(c->db, dst->data, dst->len, store_now_ms(c))
            == OB_OK)
        {
            store_key_changed(c, dst, STORE_NOTIFY_GENERIC, "del");
        }
        store_reply_int(&c->r, 0);
        return;
    }
    if (store_db_set(c->db, dst->data, dst->len, o, 0, store_now_ms(c))
        != OB_OK)
    {
        store_obj_free(a, owner, o);
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_key_changed(c, dst, STORE_NOTIFY_SET, event);
    store_reply_int(&c->r, (long long) n);
}


/* ---- single-key commands ----------------------------------------------- */

/*
 * SADD key member [member ...].  A new key's set starts in the encoding
 * its first member asks for (Redis's setTypeCreate).  When the arena
 * refuses a member, the members this call added are removed again, so the
 * key is as it was and the reply is the OOM error.
 */
static void
store_cmd_sadd(store_client_t *c)
{
    ob_arena_t    *a = store_arena(c);
    int            owner = store_owner(c);
    const ob_str_t *key = &c->argv[1];
    store_obj_t   *o;
    unsigned char  stack[64], *mark;
    size_t         i, j, nm = c->argc - 2;
    long long      added = 0;
    int            wrong, one, fresh = 0;

    o = store_set_lookup(c, key, 1, &wrong);
    if (wrong) {
        return;
    }
    mark = nm <= sizeof(stack) ? stack : malloc(nm);
    if (mark == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    if (o == NULL) {
        o = store_set_new_for(a, owner, c->argv[2].data, c->argv[2].len);
        if (o == NULL) {
            goto oom;
        }
        fresh = 1;
    }
    for (i = 0; i < nm; i++) {
        if (store_set_add(a, owner, o, c->argv[2 + i].data,
                          c->argv[2 + i].len, &one) != OB_OK)
        {
            for (j = 0; j < i; j++) {
                if (mark[j]) {
                    (void) store_set_remove(a, owner, o, c->argv[2 + j].data,
                                            c->argv[2 + j].len);
                }
            }
            goto oom;
        }
        mark[i] = (unsigned char) one;
        added += one;
    }
    if (fresh
        && store_db_set(c->db, key->data, key->len, o, 0, store_now_ms(c))
           != OB_OK)
    {
        goto oom;
    }
    if (added > 0) {
        store_key_changed(c, key, STORE_NOTIFY_SET, "sadd");
        /* Redis counts each member added (server.dirty += added) */
        store_dirty_add(c, added - 1);
    }
    store_reply_int(&c->r, added);
    if (mark != stack) {
        free(mark);
    }
    return;

oom:
    if (fresh && o != NULL) {
        store_obj_free(a, owner, o);
    }
    if (mark != stack) {
        free(mark);
    }
    store_add_err(c, STORE_ERR_OOM);
}


/* SREM key member [member ...] */
static void
store_cmd_srem(store_client_t *c)
{
    const ob_str_t *key = &c->argv[1];
    store_obj_t    *o;
    size_t          i;
    long long       removed = 0;
    int             wrong;

    o = store_set_lookup(c, key, 1, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_int(&c->r, 0);
        }
        return;
    }
    for (i = 2; i < c->argc && store_set_size(o) > 0; i++) {
        removed += store_set_remove(store_arena(c), store_owner(c), o,
                                    c->argv[i].data, c->argv[i].len);
    }
    if (removed > 0) {
        store_key_changed(c, key, STORE_NOTIFY_SET, "srem");
        store_dirty_add(c, removed - 1);        /* one per member */
        store_set_delete_if_empty(c, key, o);
    }
    store_reply_int(&c->r, removed);
}


/* SISMEMBER key member */
static void
store_cmd_sismember(store_client_t *c)
{
    store_obj_t  *o;
    int           wrong;

    o = store_set_lookup(c, &c->argv[1], 0, &wrong);
    if (wrong) {
        return;
    }
    store_reply_int(&c->r, o != NULL && store_set_contains(o, c->argv[2].data,
                                                           c->argv[2].len));
}


/* SMISMEMBER key member [member ...]: an integer per member. */
static void
store_cmd_smismember(store_client_t *c)
{
    store_obj_t  *o;
    size_t        i;
    int           wrong;

    o = store_set_lookup(c, &c->argv[1], 0, &wrong);
    if (wrong) {
        return;
    }
    store_reply_array(&c->r, c->argc - 2);
    for (i = 2; i < c->argc; i++) {
        store_reply_int(&c->r, o != NULL
                               && store_set_contains(o, c->argv[i].data,
                                                     c->argv[i].len));
    }
}


/* SCARD key */
static void
store_cmd_scard(store_client_t *c)
{
    store_obj_t  *o;
    int           wrong;

    o = store_set_lookup(c, &c->argv[1], 0, &wrong);
    if (wrong) {
        return;
    }
    store_reply_int(&c->r, o != NULL ? (long long) store_set_size(o) : 0);
}


/* SMEMBERS key: a RESP3 set; a missing key is the empty set. */
static void
store_cmd_smembers(store_client_t *c)
{
    store_obj_t  *o;
    int           wrong;

    o = store_set_lookup(c, &c->argv[1], 0, &wrong);
    if (wrong) {
        return;
    }
    if (o == NULL) {
        store_reply_set(&c->r, 0);
        return;
    }
    store_set_reply_all(c, o, 1);
}


/*
 * What a pick at random becomes in the AOF and on the replicas: the
 * member it took, SREM key member (one command per member, as Redis's
 * spopWithCountCommand writes them; several are wrapped in MULTI/EXEC).
 * Before the removal: e's bytes are the set's.
 */
static void
store_set_propagate_srem(store_client_t *c, const ob_str_t *key,
    const store_set_elem_t *e)
{
    char      buf[STORE_OBJ_INTBUF];
    ob_str_t  argv[3];

    argv[0].data = (const uint8_t *) "SREM";
    argv[0].len = 4;
    argv[1] = *key;
    argv[2].data = (const uint8_t *) store_set_elem_bytes(e, buf,
                                                          &argv[2].len);
    store_propagate_cmd(c, argv, 3);
}


/*
 * SPOP key count (Redis's spopWithCountCommand).  count >= size: the whole
 * set, then the key goes ("spop" and "del" events).  Otherwise count
 * random members, removed one by one as they are written; when what
 * remains is small next to the count (Redis's case 3, which rebuilds the
 * set from the remaining members) an all-integer rest becomes an intset.
 */
static void
store_cmd_spop_count(store_client_t *c)
{
    ob_arena_t          *a = store_arena(c);
    int                  owner = store_owner(c);
    const ob_str_t      *key = &c->argv[1];
    store_obj_t         *o;
    store_reply_batch_t  b;
    store_set_elem_t     e;
    long long            count;
    size_t               size, remaining, i, pos;
    int                  wrong;

    /* 7.0's getPositiveLongFromObjectOrReply answers "must be positive"
     * for a non-integer too (the shared helper says "not an integer") */
    if (store_get_ll_or_reply(c, &c->argv[2], &count, STORE_ERR_POSITIVE)
        != OB_OK)
    {
        return;
    }
    if (count < 0) {
        store_add_err(c, STORE_ERR_POSITIVE);
        return;
    }
    o = store_set_lookup(c, key, 1, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_set(&c->r, 0);
        }
        return;
    }
    if (count == 0) {
        store_reply_set(&c->r, 0);
        return;
    }
    size = store_set_size(o);

    if ((unsigned long long) count >= size) {
        ob_str_t  argv[2] = { { 3, (const uint8_t *) "DEL" }, *key };

        store_set_reply_all(c, o, 1);
        store_key_changed(c, key, STORE_NOTIFY_SET, "spop");
        /* Redis counts each member popped (server.dirty += size) */
        store_dirty_add(c, (long long) size - 1);
        (void) store_db_delete(c->db, key->data, key->len, store_now_ms(c));
        store_notify(c->st, c->dbid, key, STORE_NOTIFY_GENERIC, "del");
        store_propagate_cmd(c, argv, 2);       /* the whole set went */
        return;
    }

    remaining = size - (size_t) count;
    store_reply_set(&c->r, (size_t) count);
    store_reply_batch_init(&b, &c->r);
    for (i = 0; i < (size_t) count; i++) {
        pos = store_set_rand_below(c, size - i);
        store_set_get(o, pos, &e);
        store_set_reply_elem(&b.r, &e);       /* copies the bytes */
        store_set_propagate_srem(c, key, &e);
        store_set_remove_at(a, owner, o, pos);
    }
    store_reply_batch_flush(&b);
    if (remaining * STORE_SPOP_MOVE_MUL <= (size_t) count) {
        /* an OOM here only leaves the hashtable encoding */
        (void) store_set_maybe_intset(a, owner, o);
    }
    store_key_changed(c, key, STORE_NOTIFY_SET, "spop");
    store_dirty_add(c, count - 1);              /* one per member */
}


/* SPOP key [count] */
static void
store_cmd_spop(store_client_t *c)
{
    const ob_str_t    *key = &c->argv[1];
    store_obj_t       *o;
    store_set_elem_t   e;
    size_t             pos;
    int                wrong;

    if (c->argc == 3) {
        store_cmd_spop_count(c);
        return;
    }
    if (c->argc > 3) {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    o = store_set_lookup(c, key, 1, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_null(&c->r);
        }
        return;
    }
    pos = store_set_rand_below(c, store_set_size(o));
    store_set_get(o, pos, &e);
    store_set_reply_elem(&c->r, &e);
    store_set_propagate_srem(c, key, &e);
    store_set_remove_at(store_arena(c), store_owner(c), o, pos);
    store_key_changed(c, key, STORE_NOTIFY_SET, "spop");
    store_set_delete_if_empty(c, key, o);
}


/*
 * SRANDMEMBER key count (srandmemberWithCountCommand): an array.
 *   count < 0 (or 1): |count| independent picks, repeats allowed, written
 *     one at a time (the reply can be far bigger than the set: it ends at
 *     the client's output limit, nothing is built first);
 *   count >= size: the whole set;
 *   else: count distinct members, by a partial Fisher-Yates shuffle of
 *     the positions (in place for a hashtable, whose order means nothing;
 *     on a stack copy of the positions for an intset, which is at most
 *     512 long and must stay sorted).
 */
static void
store_cmd_srandmember_count(store_client_t *c)
{
    store_obj_t         *o;
    store_reply_batch_t  b;
    store_set_elem_t     e;
    long long            l;
    unsigned long long   count;
    uint16_t             idx[STORE_SET_MAX_INTSET_ENTRIES];
    size_t               size, i, j;
    uint16_t             t;
    int                  wrong, uniq = 1;

    if (store_parse_ll(&c->argv[2], &l) != OB_OK) {
        store_add_err(c, STORE_ERR_NOT_INT);
        return;
    }
    if (l < -LLONG_MAX) {
        store_add_err(c, STORE_ERR_SRAND_RANGE);
        return;
    }
    if (l >= 0) {
        count = (unsigned long long) l;
    } else {
        count = (unsigned long long) -l;
        uniq = 0;
    }
    o = store_set_lookup(c, &c->argv[1], 0, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_array(&c->r, 0);
        }
        return;
    }
    if (count == 0) {
        store_reply_array(&c->r, 0);
        return;
    }
    size = store_set_size(o);

    if (!uniq || count == 1) {
        store_reply_array(&c->r, (size_t) count);
        /* With replies off nothing would stop the loop, and nothing of
         * it would be seen. */
        if (c->flags & (STORE_CLIENT_REPLY_OFF | STORE_CLIENT_REPLY_SKIP)) {
            return;
        }
        store_reply_batch_init(&b, &c->r);
        while (count-- > 0 && !b.r.failed) {
            store_set_get(o, store_set_rand_below(c, size), &e);
            store_set_reply_elem(&b.r, &e);
        }
        store_reply_batch_flush(&b);
        return;
    }

    if (count >= size) {
        store_set_reply_all(c, o, 0);
        return;
    }

    store_reply_array(&c->r, (size_t) count);
    store_reply_batch_init(&b, &c->r);
    if (o->encoding == STORE_ENC_HASHTABLE) {
        for (i = 0; i < count; i++) {
            store_set_swap(o, i, i + store_set_rand_below(c, size - i));
            store_set_get(o, i, &e);
            store_set_reply_elem(&b.r, &e);
        }
        store_reply_batch_flush(&b);
        return;
    }
    if (size > STORE_SET_MAX_INTSET_ENTRIES) {
        /* Intsets never grow past this (store_set.c converts them), but
         * should one, selection sampling needs no room: each position is
         * taken with probability still-needed / still-left. */
        for (i = 0, j = (size_t) count; i < size && j > 0; i++) {
            if (store_set_rand_below(c, size - i) < j) {
                store_set_get(o, i, &e);
                store_set_reply_elem(&b.r, &e);
                j--;
            }
        }
        store_reply_batch_flush(&b);
        return;
    }
    for (i = 0; i < size; i++) {
        idx[i] = (uint16_t) i;
    }
    for (i = 0; i < count; i++) {
        j = i + store_set_rand_below(c, size - i);
        t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        store_set_get(o, idx[i], &e);
        store_set_reply_elem(&b.r, &e);
    }
    store_reply_batch_flush(&b);
}


/* SRANDMEMBER key [count] */
static void
store_cmd_srandmember(store_client_t *c)
{
    store_obj_t       *o;
    store_set_elem_t   e;
    int                wrong;

    if (c->argc == 3) {
        store_cmd_srandmember_count(c);
        return;
    }
    if (c->argc > 3) {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    o = store_set_lookup(c, &c->argv[1], 0, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_null(&c->r);
        }
        return;
    }
    store_set_get(o, store_set_rand_below(c, store_set_size(o)), &e);
    store_set_reply_elem(&c->r, &e);
}


/*
 * SMOVE source destination member.  Redis's checks in Redis's order (a
 * missing source answers 0 before the destination's type is looked at).
 * The destination is written first, so that an allocation the arena
 * refuses changes nothing; the removal from the source cannot fail.
 * Events: "srem" on the source ("del" if emptied), "sadd" on the
 * destination when the member was new there.
 */
static void
store_cmd_smove(store_client_t *c)
{
    ob_arena_t     *a = store_arena(c);
    int             owner = store_owner(c);
    const ob_str_t *src = &c->argv[1], *dst = &c->argv[2], *m = &c->argv[3];
    store_obj_t    *so, *dobj, *fresh = NULL;
    int             added = 0;

    so = store_lookup_write(c, src);
    dobj = store_lookup_write(c, dst);
    if (so == NULL) {
        store_reply_int(&c->r, 0);
        return;
    }
    if (store_check_type_or_reply(c, so, STORE_OBJ_SET) != OB_OK
        || (dobj != NULL
            && store_check_type_or_reply(c, dobj, STORE_OBJ_SET) != OB_OK))
    {
        return;
    }
    if (so == dobj) {
        store_reply_int(&c->r, store_set_contains(so, m->data, m->len));
        return;
    }
    if (!store_set_contains(so, m->data, m->len)) {
        store_reply_int(&c->r, 0);
        return;
    }

    if (dobj == NULL) {
        fresh = store_set_new_for(a, owner, m->data, m->len);
        if (fresh == NULL
            || store_set_add(a, owner, fresh, m->data, m->len, &added)
               != OB_OK
            || store_db_set(c->db, dst->data, dst->len, fresh, 0,
                            store_now_ms(c)) != OB_OK)
        {
            if (fresh != NULL) {
                store_obj_free(a, owner, fresh);
            }
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
    } else if (store_set_add(a, owner, dobj, m->data, m->len, &added)
               != OB_OK)
    {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }

    (void) store_set_remove(a, owner, so, m->data, m->len);
    store_key_changed(c, src, STORE_NOTIFY_SET, "srem");
    store_set_delete_if_empty(c, src, so);
    if (added) {
        store_key_changed(c, dst, STORE_NOTIFY_SET, "sadd");
    }
    store_reply_int(&c->r, 1);
}


/* ---- intersection ------------------------------------------------------ */

static int
store_set_cmp_size(const void *x, const void *y)
{
    size_t  a = store_set_size(*(store_obj_t *const *) x);
    size_t  b = store_set_size(*(store_obj_t *const *) y);

    return (a > b) - (a < b);
}


/*
 * The intersection of keys[0..n) (Redis's sinterGenericCommand): replied
 * as a set, stored at dst (SINTERSTORE), or counted up to `limit` (0: no
 * limit) with card_only (SINTERCARD).  Missing keys are empty sets, but
 * every key's type is checked first, as 7.0 does.  The smallest set is
 * walked and each member looked up in the others.
 */
static void
store_set_inter_generic(store_client_t *c, const ob_str_t *keys, size_t n,
    const ob_str_t *dst, int card_only, long long limit)
{
    ob_arena_t          *a = store_arena(c);
    int                  owner = store_owner(c);
    store_obj_t         *stack[STORE_SET_STACK_KEYS], **sets, *res;
    store_reply_batch_t  b;
    store_set_vec_t      vec = { 0 };
    store_set_elem_t     e;
    size_t               i, j, size;
    long long            card = 0;
    int                  added;

    sets = store_set_array_or_reply(c, stack, n);
    if (sets == NULL) {
        return;
    }
    if (store_set_gather_or_reply(c, keys, n, sets) != OB_OK) {
        goto done;
    }
    for (i = 0; i < n; i++) {
        if (sets[i] == NULL) {
            break;
        }
    }
    if (i < n) {
        if (dst != NULL) {
            if (store_db_delete(c->db, dst->data, dst->len, store_now_ms(c))
                == OB_OK)
            {
                store_key_changed(c, dst, STORE_NOTIFY_GENERIC, "del");
            }
            store_reply_int(&c->r, 0);
        } else if (card_only) {
            store_reply_int(&c->r, 0);
        } else {
            store_reply_set(&c->r, 0);
        }
        goto done;
    }

    qsort(sets, n, sizeof(*sets), store_set_cmp_size);
    size = store_set_size(sets[0]);
    for (i = 0; i < size; i++) {
        store_set_get(sets[0], i, &e);
        for (j = 1; j < n; j++) {
            if (sets[j] != sets[0] && !store_set_contains_elem(sets[j], &e)) {
                break;
            }
        }
        if (j < n) {
            continue;
        }
        if (card_only) {
            if (++card == limit) {
                break;
            }
        } else {
            store_set_vec_push(&vec, &e);
        }
    }
    if (vec.failed) {
        store_add_err(c, STORE_ERR_OOM);
        goto done;
    }

    if (card_only) {
        store_reply_int(&c->r, card);
    } else if (dst == NULL) {
        store_reply_set(&c->r, vec.n);
        store_reply_batch_init(&b, &c->r);
        for (i = 0; i < vec.n && !b.r.failed; i++) {
            store_set_reply_elem(&b.r, &vec.v[i]);
        }
        store_reply_batch_flush(&b);
    } else {
        res = store_set_new(a, owner, 1);
        for (i = 0; res != NULL && i < vec.n; i++) {
            if (store_set_add_elem(a, owner, res, &vec.v[i], &added)
                != OB_OK)
            {
                store_obj_free(a, owner, res);
                res = NULL;
            }
        }
        if (res == NULL) {
            store_add_err(c, STORE_ERR_OOM);
        } else {
            store_set_store_result(c, dst, res, "sinterstore");
        }
    }

done:
    free(vec.v);
    store_set_array_free(sets, stack);
}


/* SINTER key [key ...] */
static void
store_cmd_sinter(store_client_t *c)
{
    store_set_inter_generic(c, &c->argv[1], c->argc - 1, NULL, 0, 0);
}


/* SINTERSTORE destination key [key ...] */
static void
store_cmd_sinterstore(store_client_t *c)
{
    store_set_inter_generic(c, &c->argv[2], c->argc - 2, &c->argv[1], 0, 0);
}


/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
static void
store_cmd_sintercard(store_client_t *c)
{
    long long  numkeys, limit = 0;
    size_t     i;

    if (store_get_range_ll_or_reply(c, &c->argv[1], 1, LLONG_MAX, &numkeys,
                                    "ERR numkeys should be greater than 0")
        != OB_OK)
    {
        return;
    }
    if ((unsigned long long) numkeys > c->argc - 2) {
        store_add_err(c, "ERR Number of keys can't be greater than number "
                         "of args");
        return;
    }
    for (i = 2 + (size_t) numkeys; i < c->argc; i++) {
        if (store_arg_is(&c->argv[i], "limit") && i + 1 < c->argc) {
            i++;
            if (store_get_ll_or_reply(c, &c->argv[i], &limit,
                                      "ERR LIMIT can't be negative") != OB_OK)
            {
                return;
            }
            if (limit < 0) {
                store_add_err(c, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    store_set_inter_generic(c, &c->argv[2], (size_t) numkeys, NULL, 1, limit);
}


/* ---- union and difference ---------------------------------------------- */

#define STORE_SET_OP_UNION  0
#define STORE_SET_OP_DIFF   1

/*
 * SUNION/SDIFF and their STORE forms (Redis's sunionDiffGenericCommand):
 * the result is built as a new set that starts as an intset, so its
 * encoding (and, for an intset, its sorted order) is Redis's; then it is
 * replied and freed, or stored at dst.  A key that appears again later in
 * SDIFF's list empties the result (Redis's "sameset").
 */
static void
store_set_union_diff_generic(store_client_t *c, const ob_str_t *keys,
    size_t n, const ob_str_t *dst, int op)
{
    ob_arena_t        *a = store_arena(c);
    int                owner = store_owner(c);
    store_obj_t       *stack[STORE_SET_STACK_KEYS], **sets, *res = NULL;
    store_set_elem_t   e;
    size_t             i, j, size;
    int                added, same = 0;

    sets = store_set_array_or_reply(c, stack, n);
    if (sets == NULL) {
        return;
    }
    if (store_set_gather_or_reply(c, keys, n, sets) != OB_OK) {
        goto done;
    }
    for (j = 1; j < n; j++) {
        if (sets[0] != NULL && sets[j] == sets[0]) {
            same = 1;
        }
    }

    res = store_set_new(a, owner, 1);
    if (res == NULL) {
        goto oom;
    }
    if (op == STORE_SET_OP_UNION) {
        for (j = 0; j < n; j++) {
            size = sets[j] != NULL ? store_set_size(sets[j]) : 0;
            for (i = 0; i < size; i++) {
                store_set_get(sets[j], i, &e);
                if (store_set_add_elem(a, owner, res, &e, &added) != OB_OK) {
                    goto oom;
                }
            }
        }
    } else if (sets[0] != NULL && !same) {
        size = store_set_size(sets[0]);
        for (i = 0; i < size; i++) {
            store_set_get(sets[0], i, &e);
            for (j = 1; j < n; j++) {
                if (sets[j] != NULL && store_set_contains_elem(sets[j], &e)) {
                    break;
                }
            }
            if (j == n
                && store_set_add_elem(a, owner, res, &e, &added) != OB_OK)
            {
                goto oom;
            }
        }
    }

    if (dst != NULL) {
        store_set_store_result(c, dst, res,
                               op == STORE_SET_OP_UNION ? "sunionstore"
                                                        : "sdiffstore");
        res = NULL;
    } else {
        store_set_reply_all(c, res, 1);
    }
    goto done;

oom:
    store_add_err(c, STORE_ERR_OOM);

done:
    if (res != NULL) {
        store_obj_free(a, owner, res);
    }
    store_set_array_free(sets, stack);
}


static void
store_cmd_sunion(store_client_t *c)
{
    store_set_union_diff_generic(c, &c->argv[1], c->argc - 1, NULL,
                                 STORE_SET_OP_UNION);
}


static void
store_cmd_sunionstore(store_client_t *c)
{
    store_set_union_diff_generic(c, &c->argv[2], c->argc - 2, &c->argv[1],
                                 STORE_SET_OP_UNION);
}


static void
store_cmd_sdiff(store_client_t *c)
{
    store_set_union_diff_generic(c, &c->argv[1], c->argc - 1, NULL,
                                 STORE_SET_OP_DIFF);
}


static void
store_cmd_sdiffstore(store_client_t *c)
{
    store_set_union_diff_generic(c, &c->argv[2], c->argc - 2, &c->argv[1],
                                 STORE_SET_OP_DIFF);
}


/* ---- SSCAN ------------------------------------------------------------- */

/*
 * A SCAN cursor as Redis's parseScanCursorOrReply reads it: strtoul, so
 * "-1" wraps and "+5" is 5, but no leading space, no trailing byte, and no
 * overflow.
 */
static int
store_set_parse_cursor(const ob_str_t *a, uint64_t *cursor)
{
    char                buf[64];
    char               *end;
    unsigned long long  v;

    if (a->len >= sizeof(buf)) {
        return OB_ERR;
    }
    memcpy(buf, a->data, a->len);
    buf[a->len] = '\0';
    if (a->len > 0 && (buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r'))) {
        return OB_ERR;
    }
    errno = 0;
    v = strtoull(buf, &end, 10);
    if (*end != '\0' || errno == ERANGE || (size_t) (end - buf) != a->len) {
        return OB_ERR;
    }
    *cursor = (uint64_t) v;
    return OB_OK;
}


static void
store_set_scan_collect(void *arg, const store_set_elem_t *e)
{
    store_set_vec_push(arg, e);
}


/* SSCAN key cursor [MATCH pattern] [COUNT count] */
static void
store_cmd_sscan(store_client_t *c)
{
    store_obj_t         *o;
    store_reply_batch_t  b;
    store_set_vec_t      vec = { 0 };
    store_set_elem_t     e;
    const ob_str_t      *pat = NULL;
    uint64_t             cursor, next = 0;
    long long            count = 10;
    char                 buf[STORE_OBJ_INTBUF], cbuf[STORE_REPLY_LL_MAX + 4];
    const char          *p;
    size_t               i, n, len, kept;
    int                  wrong, clen;

    if (store_set_parse_cursor(&c->argv[2], &cursor) != OB_OK) {
        store_add_err(c, STORE_ERR_CURSOR);
        return;
    }
    o = store_set_lookup(c, &c->argv[1], 0, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_array(&c->r, 2);
            store_reply_bulk(&c->r, "0", 1);
            store_reply_array(&c->r, 0);
        }
        return;
    }
    for (i = 3; i < c->argc; i += 2) {
        if (store_arg_is(&c->argv[i], "count") && i + 1 < c->argc) {
            if (store_get_ll_or_reply(c, &c->argv[i + 1], &count, NULL)
                != OB_OK)
            {
                return;
            }
            if (count < 1) {
                store_add_err(c, STORE_ERR_SYNTAX);
                return;
            }
        } else if (store_arg_is(&c->argv[i], "match") && i + 1 < c->argc) {
            pat = &c->argv[i + 1];
            if (pat->len == 1 && pat->data[0] == '*') {
                pat = NULL;              /* matches everything */
            }
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }

    if (o->encoding == STORE_ENC_HASHTABLE) {
        next = store_set_scan(o, cursor, (size_t) count,
                              store_set_scan_collect, &vec);
    } else {
        /* an intset is listed whole, with cursor 0, as Redis does */
        n = store_set_size(o);
        for (i = 0; i < n; i++) {
            store_set_get(o, i, &e);
            store_set_vec_push(&vec, &e);
        }
    }
    if (vec.failed) {
        free(vec.v);
        store_add_err(c, STORE_ERR_OOM);
        return;
    }

    /* MATCH filters after the fetch (pages may come back empty) */
    kept = 0;
    for (i = 0; i < vec.n; i++) {
        p = store_set_elem_bytes(&vec.v[i], buf, &len);
        if (pat == NULL
            || store_glob_match((const char *) pat->data, pat->len, p, len, 0))
        {
            vec.v[kept++] = vec.v[i];
        }
    }

    store_reply_array(&c->r, 2);
    clen = snprintf(cbuf, sizeof(cbuf), "%llu", (unsigned long long) next);
    store_reply_bulk(&c->r, cbuf, (size_t) clen);
    store_reply_array(&c->r, kept);
    store_reply_batch_init(&b, &c->r);
    for (i = 0; i < kept && !b.r.failed; i++) {
        store_set_reply_elem(&b.r, &vec.v[i]);
    }
    store_reply_batch_flush(&b);
    free(vec.v);
}


/* ---- the table --------------------------------------------------------- */

const store_cmd_t store_cmds_set[] = {
    { .base = { .name = "sadd", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_WRITE | STORE_CMD_DENYOOM | OB_CMD_FAST },
      .handler = store_cmd_sadd, .keys = { 1, 1, 1 },
      .acl = "@write @set @fast" },
    { .base = { .name = "srem", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_WRITE | OB_CMD_FAST },
      .handler = store_cmd_srem, .keys = { 1, 1, 1 },
      .acl = "@write @set @fast" },
    { .base = { .name = "sismember", .arity_min = 3, .arity_max = 3,
                .flags = OB_CMD_READONLY | OB_CMD_FAST },
      .handler = store_cmd_sismember, .keys = { 1, 1, 1 },
      .acl = "@read @set @fast" },
    { .base = { .name = "smismember", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_READONLY | OB_CMD_FAST },
      .handler = store_cmd_smismember, .keys = { 1, 1, 1 },
      .acl = "@read @set @fast" },
    { .base = { .name = "smembers", .arity_min = 2, .arity_max = 2,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_smembers, .keys = { 1, 1, 1 },
      .acl = "@read @set @slow" },
    { .base = { .name = "scard", .arity_min = 2, .arity_max = 2,
                .flags = OB_CMD_READONLY | OB_CMD_FAST },
      .handler = store_cmd_scard, .keys = { 1, 1, 1 },
      .acl = "@read @set @fast" },
    { .base = { .name = "spop", .arity_min = 2, .arity_max = -1,
                .flags = OB_CMD_WRITE | OB_CMD_FAST },
      .handler = store_cmd_spop, .keys = { 1, 1, 1 },
      .acl = "@write @set @fast" },
    { .base = { .name = "srandmember", .arity_min = 2, .arity_max = -1,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_srandmember, .keys = { 1, 1, 1 },
      .acl = "@read @set @slow" },
    { .base = { .name = "smove", .arity_min = 4, .arity_max = 4,
                .flags = OB_CMD_WRITE | OB_CMD_FAST },
      .handler = store_cmd_smove, .keys = { 1, 2, 1 },
      .acl = "@write @set @fast" },
    { .base = { .name = "sinter", .arity_min = 2, .arity_max = -1,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_sinter, .keys = { 1, -1, 1 },
      .acl = "@read @set @slow" },
    { .base = { .name = "sintercard", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_READONLY | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_sintercard, .keys = { 0, 0, 0 },
      .acl = "@read @set @slow" },
    { .base = { .name = "sinterstore", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_WRITE | STORE_CMD_DENYOOM },
      .handler = store_cmd_sinterstore, .keys = { 1, -1, 1 },
      .acl = "@write @set @slow" },
    { .base = { .name = "sunion", .arity_min = 2, .arity_max = -1,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_sunion, .keys = { 1, -1, 1 },
      .acl = "@read @set @slow" },
    { .base = { .name = "sunionstore", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_WRITE | STORE_CMD_DENYOOM },
      .handler = store_cmd_sunionstore, .keys = { 1, -1, 1 },
      .acl = "@write @set @slow" },
    { .base = { .name = "sdiff", .arity_min = 2, .arity_max = -1,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_sdiff, .keys = { 1, -1, 1 },
      .acl = "@read @set @slow" },
    { .base = { .name = "sdiffstore", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_WRITE | STORE_CMD_DENYOOM },
      .handler = store_cmd_sdiffstore, .keys = { 1, -1, 1 },
      .acl = "@write @set @slow" },
    { .base = { .name = "sscan", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_sscan, .keys = { 1, 1, 1 },
      .acl = "@read @set @slow" },
    { .base = { .name = NULL } }
};
