/*
 * store_cmd_string.c: the string commands (Redis 7.0's t_string.c): GET,
 * SET and its variants, the counters, APPEND/SETRANGE/GETRANGE and LCS.
 *
 * Allocation order.  The arena may run the store's eviction hook inside
 * any allocation, and that hook deletes keys, possibly the very key a
 * command is working on.  So a handler never keeps an object it looked up
 * across an allocation: it allocates first (the new value, the grown
 * bytes), then looks the key up again, and starts over when the key is no
 * longer the object it measured (store_str_still).  Nothing is changed
 * before every allocation a command needs has succeeded, so that a
 * refusal answers -OOM and leaves the key as it was.
 *
 * Encodings follow Redis: a value written by SET, GETSET, MSET is encoded
 * int/embstr/raw by its bytes (tryObjectEncoding); APPEND to an existing
 * key and SETRANGE leave a raw string (they grow it in place); the
 * counters keep an int.
 */
#include "store_int.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* proto-max-bulk-len: APPEND and SETRANGE refuse to build more */
#define STORE_STR_MAX        536870912LL
#define STORE_ERR_STR_MAX    "ERR string exceeds maximum allowed size " \
                             "(proto-max-bulk-len)"
/* a handler's retries after the key changed under an allocation */
#define STORE_STR_TRIES      4

/* SET / GETEX options (Redis's OBJ_SET_* and OBJ_* flags) */
#define STR_NX        0x001
#define STR_XX        0x002
#define STR_GET       0x004
#define STR_KEEPTTL   0x008
#define STR_PERSIST   0x010
#define STR_EX        0x020
#define STR_PX        0x040
#define STR_EXAT      0x080
#define STR_PXAT      0x100
#define STR_EXPIRE    (STR_EX | STR_PX | STR_EXAT | STR_PXAT)


static ob_arena_t *
store_str_arena(store_client_t *c)
{
    return store_arena(c);
}


/* The key's bytes as store_db wants them. */
#define KEY(a)  (a)->data, (a)->len


/*
 * What the AOF and the replicas get instead of a command whose effect
 * depends on the clock: `name key [value] [PXAT|... when]`, e.g.
 * SET k v PXAT <ms>, PEXPIREAT k <ms>, PERSIST k, DEL k (Redis's
 * setGenericCommand and getexCommand rewrites).  `val` and `word` may be
 * NULL; `when` follows when `has_when`.
 */
static void
store_str_propagate(store_client_t *c, const char *name, const ob_str_t *key,
    const ob_str_t *val, const char *word, int has_when, int64_t when)
{
    ob_str_t  argv[5];
    char      num[32];
    size_t    n = 0;

    argv[n].data = (const uint8_t *) name;
    argv[n++].len = strlen(name);
    argv[n++] = *key;
    if (val != NULL) {
        argv[n++] = *val;
    }
    if (word != NULL) {
        argv[n].data = (const uint8_t *) word;
        argv[n++].len = strlen(word);
    }
    if (has_when) {
        argv[n].len = (size_t) snprintf(num, sizeof(num), "%lld",
                                        (long long) when);
        argv[n++].data = (const uint8_t *) num;
    }
    store_propagate_cmd(c, argv, n);
}


/*
 * 1 when `key` still holds `o` (no eviction took it during the caller's
 * allocation).  The eviction hook only deletes keys, so a key that still
 * exists still holds the object that was measured.
 */
static int
store_str_still(store_client_t *c, const ob_str_t *key, const store_obj_t *o)
{
    return store_db_lookup_write(c->db, KEY(key), store_now_ms(c),
                                 STORE_LOOKUP_NOTOUCH) == o;
}


/*
 * A string object of p[0..len) that is never int-encoded: embstr up to
 * STORE_OBJ_EMBSTR_MAX bytes (store_object.h's layout: the bytes at
 * STORE_OBJ_HDR, an allocation of at least the header's size), raw
 * above.  INCRBYFLOAT's result, which Redis creates as a plain string
 * ("1" is an embstr there).  NULL on OOM.  new.
 */
static store_obj_t *
store_str_plain_new(store_client_t *c, const char *p, size_t len)
{
    store_obj_t  *o;

    if (len > STORE_OBJ_EMBSTR_MAX) {
        return store_obj_raw_new(store_str_arena(c), store_owner(c), p, len);
    }
    o = ob_arena_alloc(store_str_arena(c), store_owner(c),
                       OB_MAX(sizeof(store_obj_t), STORE_OBJ_HDR + len));
    if (o == NULL) {
        return NULL;
    }
    o->type = STORE_OBJ_STRING;
    o->encoding = STORE_ENC_EMBSTR;
    o->lru = 0;
    o->len = (uint32_t) len;
    memcpy((char *) o + STORE_OBJ_HDR, p, len);
    return o;
}


static void
store_str_free(store_client_t *c, store_obj_t *o)
{
    store_obj_free(store_str_arena(c), store_owner(c), o);
}


/* "ERR invalid expire time in '<cmd>' command" */
static void
store_str_err_expire(store_client_t *c)
{
    store_add_errf(c, "ERR invalid expire time in '%s' command",
                   c->cmd->base.name);
}


/*
 * Redis's getExpireMillisecondsOrReply: the absolute expiry in ms of an
 * EX/PX/EXAT/PXAT argument.  OB_ERR: replied.
 */
static int
store_str_expire_or_reply(store_client_t *c, const ob_str_t *a,
    unsigned flags, int64_t *when)
{
    long long  v;
    int64_t    now;

    if (store_get_ll_or_reply(c, a, &v, NULL) != OB_OK) {
        return OB_ERR;
    }
    if (v <= 0 || ((flags & (STR_EX | STR_EXAT)) && v > LLONG_MAX / 1000)) {
        store_str_err_expire(c);
        return OB_ERR;
    }
    if (flags & (STR_EX | STR_EXAT)) {
        v *= 1000;
    }
    if (flags & (STR_EX | STR_PX)) {
        now = store_now_ms(c);
        /* Redis adds and finds the sum wrapped below zero */
        if (v > LLONG_MAX - now) {
            store_str_err_expire(c);
            return OB_ERR;
        }
        v += now;
    }
    *when = v;
    return OB_OK;
}


/*
 * Redis's parseExtendedStringArgumentsOrReply, for SET (getex 0) and
 * GETEX (getex 1): the options from argv[from] on.  Repeating EX (or PX
 * ...) is accepted, the last one wins, as in Redis.
 */
static int
store_str_parse_opts(store_client_t *c, size_t from, int getex,
    unsigned *flags, const ob_str_t **expire)
{
    const ob_str_t  *a, *next;
    unsigned         f = 0;
    size_t           j;

    *expire = NULL;
    for (j = from; j < c->argc; j++) {
        a = &c->argv[j];
        next = j + 1 < c->argc ? &c->argv[j + 1] : NULL;

        if (!getex && store_arg_is(a, "nx") && !(f & STR_XX)) {
            f |= STR_NX;
        } else if (!getex && store_arg_is(a, "xx") && !(f & STR_NX)) {
            f |= STR_XX;
        } else if (!getex && store_arg_is(a, "get")) {
            f |= STR_GET;
        } else if (!getex && store_arg_is(a, "keepttl")
                   && !(f & (STR_PERSIST | STR_EXPIRE)))
        {
            f |= STR_KEEPTTL;
        } else if (getex && store_arg_is(a, "persist")
                   && !(f & (STR_EXPIRE | STR_KEEPTTL)))
        {
            f |= STR_PERSIST;
        } else if (store_arg_is(a, "ex") && next != NULL
                   && !(f & (STR_KEEPTTL | STR_PERSIST | STR_EXAT | STR_PX
                             | STR_PXAT)))
        {
            f |= STR_EX;
            *expire = next;
            j++;
        } else if (store_arg_is(a, "px") && next != NULL
                   && !(f & (STR_KEEPTTL | STR_PERSIST | STR_EX | STR_EXAT
                             | STR_PXAT)))
        {
            f |= STR_PX;
            *expire = next;
            j++;
        } else if (store_arg_is(a, "exat") && next != NULL
                   && !(f & (STR_KEEPTTL | STR_PERSIST | STR_EX | STR_PX
                             | STR_PXAT)))
        {
            f |= STR_EXAT;
            *expire = next;
            j++;
        } else if (store_arg_is(a, "pxat") && next != NULL
                   && !(f & (STR_KEEPTTL | STR_PERSIST | STR_EX | STR_EXAT
                             | STR_PX)))
        {
            f |= STR_PXAT;
            *expire = next;
            j++;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return OB_ERR;
        }
    }
    *flags = f;
    return OB_OK;
}


/*
 * SET ... GET and GETSET, when no expiry rewrote them: written without
 * what only served the reply, as Redis 7.0 does: GETSET key value becomes
 * SET key value, and SET drops its GET arguments (every one: it may be
 * repeated), the rest as received.
 */
static void
store_str_propagate_without_get(store_client_t *c)
{
    ob_str_t  stack[16] = { { 0, NULL } }, *argv = stack;
    size_t    j, n = 0;

    if (strcmp(c->cmd->base.name, "getset") == 0) {
        ob_str_t  set[3] = { { 3, (const uint8_t *) "SET" }, c->argv[1],
                             c->argv[2] };

        store_propagate_cmd(c, set, 3);
        return;
    }
    if (c->argc > 16) {
        argv = malloc(c->argc * sizeof(*argv));
        if (argv == NULL) {
            return;                     /* then it goes as received */
        }
    }
    for (j = 0; j < c->argc; j++) {
        if (j >= 3 && store_arg_is(&c->argv[j], "get")) {
            continue;
        }
        argv[n++] = c->argv[j];
    }
    store_propagate_cmd(c, argv, n);
    if (argv != stack) {
        free(argv);
    }
}


/*
 * Sets the TTL of a key just written.  When the arena refuses the TTL's
 * entry the key cannot be left without its expiry: it is deleted (as if
 * it had expired at once) and OB_ERR returned.
 */
static int
store_str_set_expire(store_client_t *c, const ob_str_t *key, int64_t when)
{
    int64_t  now = store_now_ms(c);

    if (store_db_expire_set(c->db, KEY(key), when, now) == OB_ERR) {
        (void) store_db_delete(c->db, KEY(key), now);
        return OB_ERR;
    }
    return OB_OK;
}


/*
 * Redis's setGenericCommand: SET, SETNX, SETEX, PSETEX, GETSET.
 * `abort_int`: SETNX's integer replies (1 set, 0 not) instead of +OK and
 * the null bulk.
 */
static void
store_str_set_generic(store_client_t *c, unsigned flags, const ob_str_t *key,
    const ob_str_t *val, const ob_str_t *expire, int abort_int)
{
    store_obj_t  *o, *old;
    int64_t       when = 0;
    int           found, replied = 0;

    if (expire != NULL
        && store_str_expire_or_reply(c, expire, flags, &when) != OB_OK)
    {
        return;
    }

    /* the value first: nothing of the database is held while the arena
     * may evict */
    o = store_obj_string_new(store_str_arena(c), store_owner(c), val->data,
                             val->len);
    if (o == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }

    if (flags & STR_GET) {
        old = store_lookup_read(c, key);
        if (old != NULL && old->type != STORE_OBJ_STRING) {
            store_add_err(c, STORE_ERR_WRONGTYPE);
            store_str_free(c, o);
            return;
        }
        /* an existing old value is answered now (the set frees it); it
         * is replaced in place, which allocates nothing and cannot fail */
        if (old != NULL) {
            store_reply_obj(c, old);
            replied = 1;
        }
    }

    /* only NX and XX ask whether the key exists (one lookup saved on a
     * plain SET) */
    found = (flags & (STR_NX | STR_XX)) && store_lookup_write(c, key) != NULL;
    if (((flags & STR_NX) && found) || ((flags & STR_XX) && !found)) {
        store_str_free(c, o);
        if (flags & STR_GET) {
            if (!replied) {
                store_reply_null(&c->r);
            }
        } else if (abort_int) {
            store_reply_int(&c->r, 0);
        } else {
            store_reply_null(&c->r);
        }
        return;
    }

    if (store_db_set(c->db, KEY(key), o,
                     (flags & STR_KEEPTTL) ? STORE_SET_KEEPTTL : 0,
                     store_now_ms(c)) != OB_OK)
    {
        store_str_free(c, o);
        store_add_err(c, STORE_ERR_OOM);       /* a new key: not replied */
        return;
    }
    if (expire != NULL && store_str_set_expire(c, key, when) != OB_OK) {
        store_key_changed(c, key, STORE_NOTIFY_GENERIC, "del");
        store_str_propagate(c, "DEL", key, NULL, NULL, 0, 0);
        if (!replied) {
            store_add_err(c, STORE_ERR_OOM);
        }
        return;
    }

    store_key_changed(c, key, STORE_NOTIFY_STRING, "set");
    if (expire != NULL) {
        store_notify(c->st, c->dbid, key, STORE_NOTIFY_GENERIC, "expire");
        /* Redis 7.0 writes SET key value PXAT <ms> for any of EX, PX,
         * EXAT, PXAT (SETEX and PSETEX too), without NX/XX/GET. */
        store_str_propagate(c, "SET", key, val, "PXAT", 1, when);
    } else if (flags & STR_GET) {
        store_str_propagate_without_get(c);
    }

    if (flags & STR_GET) {
        if (!replied) {
            store_reply_null(&c->r);
        }
    } else if (abort_int) {
        store_reply_int(&c->r, 1);
    } else {
        store_add_ok(c);
    }
}


static void
store_cmd_set(store_client_t *c)
{
    const ob_str_t  *expire;
    unsigned         flags;

    if (store_str_parse_opts(c, 3, 0, &flags, &expire) != OB_OK) {
        return;
    }
    store_str_set_generic(c, flags, &c->argv[1], &c->argv[2], expire, 0);
}


static void
store_cmd_setnx(store_client_t *c)
{
    store_str_set_generic(c, STR_NX, &c->argv[1], &c->argv[2], NULL, 1);
}


static void
store_cmd_setex(store_client_t *c)
{
    store_str_set_generic(c, STR_EX, &c->argv[1], &c->argv[3], &c->argv[2],
                          0);
}


static void
store_cmd_psetex(store_client_t *c)
{
    store_str_set_generic(c, STR_PX, &c->argv[1], &c->argv[3], &c->argv[2],
                          0);
}


static void
store_cmd_getset(store_client_t *c)
{
    store_str_set_generic(c, STR_GET, &c->argv[1], &c->argv[2], NULL, 0);
}


/* GET's lookup: the value, or NULL when replied (null or WRONGTYPE). */
static store_obj_t *
store_str_get_or_reply(store_client_t *c, const ob_str_t *key)
{
    store_obj_t  *o = store_lookup_read(c, key);

    if (o == NULL) {
        store_reply_null(&c->r);
        return NULL;
    }
    if (store_check_type_or_reply(c, o, STORE_OBJ_STRING) != OB_OK) {
        return NULL;
    }
    return o;
}


static void
store_cmd_get(store_client_t *c)
{
    store_obj_t  *o = store_str_get_or_reply(c, &c->argv[1]);

    if (o != NULL) {
        store_reply_obj(c, o);
    }
}


static void
store_cmd_getdel(store_client_t *c)
{
    store_obj_t  *o = store_str_get_or_reply(c, &c->argv[1]);

    if (o == NULL) {
        return;
    }
    store_reply_obj(c, o);
    (void) store_db_delete(c->db, KEY(&c->argv[1]), store_now_ms(c));
    store_key_changed(c, &c->argv[1], STORE_NOTIFY_GENERIC, "del");
    /* written as the deletion it was (Redis 7.0: DEL key) */
    store_str_propagate(c, "DEL", &c->argv[1], NULL, NULL, 0, 0);
}


static void
store_cmd_getex(store_client_t *c)
{
    const ob_str_t  *key = &c->argv[1], *expire;
    store_obj_t     *o;
    unsigned         flags;
    int64_t          when = 0, now = store_now_ms(c);
    int              rc;

    if (store_str_parse_opts(c, 2, 1, &flags, &expire) != OB_OK) {
        return;
    }
    if (store_str_get_or_reply(c, key) == NULL) {
        return;
    }
    if (expire != NULL
        && store_str_expire_or_reply(c, expire, flags, &when) != OB_OK)
    {
        return;
    }

    if (expire != NULL && !((flags & (STR_EXAT | STR_PXAT)) && when <= now)) {
        /* the TTL's entry is allocated before the value is answered: the
         * allocation may evict the key */
        rc = store_db_expire_set(c->db, KEY(key), when, now);
        if (rc == OB_ERR) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        o = store_db_lookup_read(c->db, KEY(key), now, STORE_LOOKUP_NOTOUCH);
        if (rc == OB_DECLINED || o == NULL) {
            store_reply_null(&c->r);
            return;
        }
        store_reply_obj(c, o);
        store_key_changed(c, key, STORE_NOTIFY_GENERIC, "expire");
        store_str_propagate(c, "PEXPIREAT", key, NULL, NULL, 1, when);
        return;
    }

    o = store_db_lookup_read(c->db, KEY(key), now, STORE_LOOKUP_NOTOUCH);
    store_reply_obj(c, o);
    if (expire != NULL) {
        /* EXAT/PXAT in the past: deleted at once */
        (void) store_db_delete(c->db, KEY(key), now);
        store_key_changed(c, key, STORE_NOTIFY_GENERIC, "del");
        store_str_propagate(c, "DEL", key, NULL, NULL, 0, 0);
    } else if ((flags & STR_PERSIST)
               && store_db_persist(c->db, KEY(key), now) == OB_OK)
    {
        store_key_changed(c, key, STORE_NOTIFY_GENERIC, "persist");
        store_str_propagate(c, "PERSIST", key, NULL, NULL, 0, 0);
    }
}


static void
store_cmd_mget(store_client_t *c)
{
    store_obj_t  *o;
    size_t        j;

    store_reply_array(&c->r, c->argc - 1);
    for (j = 1; j < c->argc; j++) {
        o = store_lookup_read(c, &c->argv[j]);
        if (o == NULL || o->type != STORE_OBJ_STRING) {
            store_reply_null(&c->r);
        } else {
            store_reply_obj(c, o);
        }
    }
}


/*
 * MSET and MSETNX.  Every value is allocated before any key is looked at
 * or written, so an arena refusal of a value changes nothing; a new key's
 * entry refused midway leaves the keys before it set (Redis cannot fail
 * there).
 */
static void
store_str_mset_generic(store_client_t *c, int nx)
{
    ob_arena_t    *a = store_str_arena(c);
    int            owner = store_owner(c);
    store_obj_t  **vals;
    size_t         n, i, j;
    int64_t        now = store_now_ms(c);

    if (c->argc % 2 == 0) {
        store_add_err_arity(c, c->cmd->base.name);
        return;
    }
    n = (c->argc - 1) / 2;
    vals = malloc(n * sizeof(*vals));
    if (vals == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    for (i = 0; i < n; i++) {
        vals[i] = store_obj_string_new(a, owner, c->argv[2 + 2 * i].data,
                                       c->argv[2 + 2 * i].len);
        if (vals[i] == NULL) {
            while (i-- > 0) {
                store_obj_free(a, owner, vals[i]);
            }
            free(vals);
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
    }

    if (nx) {
        for (j = 1; j < c->argc; j += 2) {
            if (store_lookup_write(c, &c->argv[j]) != NULL) {
                for (i = 0; i < n; i++) {
                    store_obj_free(a, owner, vals[i]);
                }
                free(vals);
                store_reply_int(&c->r, 0);
                return;
            }
        }
    }

    for (i = 0; i < n; i++) {
        if (store_db_set(c->db, KEY(&c->argv[1 + 2 * i]), vals[i], 0, now)
            != OB_OK)
        {
            for (j = i; j < n; j++) {
                store_obj_free(a, owner, vals[j]);
            }
            free(vals);
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        store_key_changed(c, &c->argv[1 + 2 * i], STORE_NOTIFY_STRING, "set");
    }
    free(vals);
    if (nx) {
        store_reply_int(&c->r, 1);
    } else {
        store_add_ok(c);
    }
}


static void
store_cmd_mset(store_client_t *c)
{
    store_str_mset_generic(c, 0);
}


static void
store_cmd_msetnx(store_client_t *c)
{
    store_str_mset_generic(c, 1);
}


/* ---- counters ------------------------------------------------------------ */

/* A string value as a long long (string2ll's rules).  OB_ERR: replied. */
static int
store_str_value_ll_or_reply(store_client_t *c, const store_obj_t *o,
    long long *v)
{
    const char  *p;
    size_t       len;
    char         buf[STORE_OBJ_INTBUF];

    if (o->encoding == STORE_ENC_INT) {
        *v = o->v.ll;
        return OB_OK;
    }
    p = store_obj_string_bytes(o, buf, &len);
    if (!store_str_is_ll(p, len, v)) {
        store_add_err(c, STORE_ERR_NOT_INT);
        return OB_ERR;
    }
    return OB_OK;
}


/*
 * Redis's incrDecrCommand.  An int-encoded value is updated in its
 * header (no allocation); another is replaced by an int object, its TTL
 * kept.
 */
static void
store_str_incr_generic(store_client_t *c, long long incr)
{
    const ob_str_t  *key = &c->argv[1];
    store_obj_t     *o, *n;
    long long        value;
    int              tries;

    for (tries = 0; tries < STORE_STR_TRIES; tries++) {
        o = store_lookup_write(c, key);
        if (o != NULL
            && store_check_type_or_reply(c, o, STORE_OBJ_STRING) != OB_OK)
        {
            return;
        }
        value = 0;
        if (o != NULL && store_str_value_ll_or_reply(c, o, &value) != OB_OK) {
            return;
        }
        if ((incr < 0 && value < 0 && incr < LLONG_MIN - value)
            || (incr > 0 && value > 0 && incr > LLONG_MAX - value))
        {
            store_add_err(c, STORE_ERR_OVERFLOW);
            return;
        }
        value += incr;

        if (o != NULL && o->encoding == STORE_ENC_INT) {
            o->v.ll = value;
            break;
        }
        n = store_obj_ll_new(store_str_arena(c), store_owner(c), value);
        if (n == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        if (o != NULL && !store_str_still(c, key, o)) {
            store_str_free(c, n);
            continue;
        }
        if (store_db_set(c->db, KEY(key), n, STORE_SET_KEEPTTL,
                         store_now_ms(c)) != OB_OK)
        {
            store_str_free(c, n);
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        break;
    }
    if (tries == STORE_STR_TRIES) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_key_changed(c, key, STORE_NOTIFY_STRING, "incrby");
    store_reply_int(&c->r, value);
}


static void
store_cmd_incr(store_client_t *c)
{
    store_str_incr_generic(c, 1);
}


static void
store_cmd_decr(store_client_t *c)
{
    store_str_incr_generic(c, -1);
}


static void
store_cmd_incrby(store_client_t *c)
{
    long long  incr;

    if (store_get_ll_or_reply(c, &c->argv[2], &incr, NULL) != OB_OK) {
        return;
    }
    store_str_incr_generic(c, incr);
}


static void
store_cmd_decrby(store_client_t *c)
{
    long long  incr;

    if (store_get_ll_or_reply(c, &c->argv[2], &incr, NULL) != OB_OK) {
        return;
    }
    if (incr == LLONG_MIN) {
        store_add_err(c, "ERR decrement would overflow");
        return;
    }
    store_str_incr_generic(c, -incr);
}


static void
store_cmd_incrbyfloat(store_client_t *c)
{
    const ob_str_t  *key = &c->argv[1];
    store_obj_t     *o, *n;
    long double      value, incr;
    ob_str_t         s;
    const char      *p;
    size_t           len;
    int              tries;
    char             ibuf[STORE_OBJ_INTBUF];
    char             buf[STORE_LDBL_MAX];

    for (tries = 0; tries < STORE_STR_TRIES; tries++) {
        o = store_lookup_write(c, key);
        if (o != NULL
            && store_check_type_or_reply(c, o, STORE_OBJ_STRING) != OB_OK)
        {
            return;
        }
        value = 0;
        if (o != NULL) {
            if (o->encoding == STORE_ENC_INT) {
                value = (long double) o->v.ll;
            } else {
                p = store_obj_string_bytes(o, ibuf, &len);
                s.data = (const uint8_t *) p;
                s.len = len;
                if (store_parse_long_double(&s, &value) != OB_OK) {
                    store_add_err(c, STORE_ERR_NOT_FLOAT);
                    return;
                }
            }
        }
        if (store_get_long_double_or_reply(c, &c->argv[2], &incr, NULL)
            != OB_OK)
        {
            return;
        }
        value += incr;
        if (isnan(value) || isinf(value)) {
            store_add_err(c, STORE_ERR_NAN);
            return;
        }
        len = store_format_long_double(value, buf);

        n = store_str_plain_new(c, buf, len);
        if (n == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        if (o != NULL && !store_str_still(c, key, o)) {
            store_str_free(c, n);
            continue;
        }
        if (store_db_set(c->db, KEY(key), n, STORE_SET_KEEPTTL,
                         store_now_ms(c)) != OB_OK)
        {
            store_str_free(c, n);
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        store_key_changed(c, key, STORE_NOTIFY_STRING, "incrbyfloat");
        /* the result, not the increment: float arithmetic must not be
         * redone elsewhere (Redis's SET key value KEEPTTL) */
        s.data = (const uint8_t *) buf;
        s.len = len;
        store_str_propagate(c, "SET", key, &s, "KEEPTTL", 0, 0);
        store_reply_bulk(&c->r, buf, len);
        return;
    }
    store_add_err(c, STORE_ERR_OOM);
}


/* ---- APPEND, SETRANGE, GETRANGE, STRLEN --------------------------------- */

/*
 * Writes src[0..n) at `offset` of the string at key (o, of oldlen bytes),
 * growing it to newlen (zero-filled between), keeping its TTL; o is left
 * raw, as Redis leaves it.  In place when o is raw and the new length
 * stays in its arena chunk; else a new raw object is filled and replaces
 * o.  OB_OK; OB_AGAIN the key changed under the allocation (start over);
 * OB_ERR out of memory (replied nothing, nothing changed).
 */
static int
store_str_write(store_client_t *c, const ob_str_t *key, store_obj_t *o,
    size_t newlen, size_t offset, const void *src, size_t n)
{
    ob_arena_t   *a = store_str_arena(c);
    int           owner = store_owner(c);
    store_obj_t  *d;
    const char   *p;
    size_t        oldlen;
    void         *q;
    char          buf[STORE_OBJ_INTBUF];

    oldlen = store_obj_string_len(o);

    q = NULL;
    if (o->encoding == STORE_ENC_RAW && oldlen > 0 && newlen >= oldlen) {
        if (newlen == oldlen) {
            q = o->v.ptr;                 /* a SETRANGE inside the string */
        } else if (newlen > STORE_OBJ_RAW_EXACT) {
            /* a big string has room up to its capacity */
            if (store_obj_raw_cap(newlen) == store_obj_raw_cap(oldlen)) {
                q = o->v.ptr;
            }
        } else if (ob_arena_class_of(a, oldlen) == ob_arena_class_of(a, newlen)
                   && ob_arena_class_of(a, newlen) != OB_ARENA_CLASS_LARGE)
        {
            /* the same chunk class: the realloc keeps the chunk and takes
             * nothing from the arena (the debug build moves it) */
            q = ob_arena_realloc(a, owner, o->v.ptr, oldlen, newlen);
            if (q == NULL) {
                return OB_ERR;
            }
        }
    }
    if (q != NULL) {
        o->v.ptr = q;
        o->len = (uint32_t) newlen;
        if (offset > oldlen) {
            memset((char *) q + oldlen, 0, offset - oldlen);
        }
        memcpy((char *) q + offset, src, n);
        return OB_OK;
    }

    d = store_obj_raw_alloc(store_str_arena(c), store_owner(c), newlen);
    if (d == NULL) {
        return OB_ERR;
    }
    if (!store_str_still(c, key, o)) {
        store_str_free(c, d);
        return OB_AGAIN;
    }
    p = store_obj_string_bytes(o, buf, &oldlen);
    q = d->v.ptr;
    memcpy(q, p, OB_MIN(oldlen, offset));
    if (offset > oldlen) {
        memset((char *) q + oldlen, 0, offset - oldlen);
    }
    memcpy((char *) q + offset, src, n);
    if (offset + n < oldlen) {
        memcpy((char *) q + offset + n, p + offset + n, oldlen - offset - n);
    }
    d->lru = o->lru;
    /* the key exists: a replacement in place, which cannot fail */
    (void) store_db_set(c->db, KEY(key), d, STORE_SET_KEEPTTL,
                        store_now_ms(c));
    return OB_OK;
}


static void
store_cmd_append(store_client_t *c)
{
    const ob_str_t  *key = &c->argv[1], *val = &c->argv[2];
    store_obj_t     *o;
    size_t           oldlen, total = 0;
    int              tries, rc;

    for (tries = 0; tries < STORE_STR_TRIES; tries++) {
        o = store_lookup_write(c, key);
        if (o == NULL) {
            o = store_obj_string_new(store_str_arena(c), store_owner(c),
                                     val->data, val->len);
            if (o == NULL) {
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
            if (store_db_set(c->db, KEY(key), o, 0, store_now_ms(c))
                != OB_OK)
            {
                store_str_free(c, o);
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
            total = val->len;
            break;
        }
        if (store_check_type_or_reply(c, o, STORE_OBJ_STRING) != OB_OK) {
            return;
        }
        oldlen = store_obj_string_len(o);
        if ((long long) (oldlen + val->len) > STORE_STR_MAX) {
            store_add_err(c, STORE_ERR_STR_MAX);
            return;
        }
        rc = store_str_write(c, key, o, oldlen + val->len, oldlen, val->data,
                             val->len);
        if (rc == OB_AGAIN) {
            continue;
        }
        if (rc != OB_OK) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        total = oldlen + val->len;
        break;
    }
    if (tries == STORE_STR_TRIES) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_key_changed(c, key, STORE_NOTIFY_STRING, "append");
    store_reply_int(&c->r, (long long) total);
}


static void
store_cmd_setrange(store_client_t *c)
{
    const ob_str_t  *key = &c->argv[1], *val = &c->argv[3];
    store_obj_t     *o;
    long long        offset;
    size_t           oldlen, newlen;
    int              tries, rc;

    if (store_get_ll_or_reply(c, &c->argv[2], &offset, NULL) != OB_OK) {
        return;
    }
    if (offset < 0) {
        store_add_err(c, "ERR offset is out of range");
        return;
    }

    for (tries = 0; tries < STORE_STR_TRIES; tries++) {
        o = store_lookup_write(c, key);
        if (o != NULL
            && store_check_type_or_reply(c, o, STORE_OBJ_STRING) != OB_OK)
        {
            return;
        }
        oldlen = o != NULL ? store_obj_string_len(o) : 0;
        if (val->len == 0) {
            store_reply_int(&c->r, (long long) oldlen);
            return;
        }
        if (offset > STORE_STR_MAX - (long long) val->len) {
            store_add_err(c, STORE_ERR_STR_MAX);
            return;
        }
        newlen = OB_MAX(oldlen, (size_t) offset + val->len);

        if (o == NULL) {
            /* a new key, zero-filled before the bytes */
            o = store_obj_raw_alloc(store_str_arena(c), store_owner(c), newlen);
            if (o == NULL) {
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
            memset(o->v.ptr, 0, (size_t) offset);
            memcpy((char *) o->v.ptr + offset, val->data, val->len);
            if (store_db_set(c->db, KEY(key), o, 0, store_now_ms(c))
                != OB_OK)
            {
                store_str_free(c, o);
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
            break;
        }
        rc = store_str_write(c, key, o, newlen, (size_t) offset, val->data,
                             val->len);
        if (rc == OB_AGAIN) {
            continue;
        }
        if (rc != OB_OK) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        break;
    }
    if (tries == STORE_STR_TRIES) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_key_changed(c, key, STORE_NOTIFY_STRING, "setrange");
    store_reply_int(&c->r, (long long) newlen);
}


/* GETRANGE and SUBSTR, with Redis 7.0's clamping (both ends to 0). */
static void
store_cmd_getrange(store_client_t *c)
{
    store_obj_t  *o;
    long long     start, end, len;
    const char   *p;
    size_t        n;
    char          buf[STORE_OBJ_INTBUF];

    if (store_get_ll_or_reply(c, &c->argv[2], &start, NULL) != OB_OK
        || store_get_ll_or_reply(c, &c->argv[3], &end, NULL) != OB_OK)
    {
        return;
    }
    o = store_lookup_read(c, &c->argv[1]);
    if (o == NULL) {
        store_reply_bulk(&c->r, "", 0);
        return;
    }
    if (store_check_type_or_reply(c, o, STORE_OBJ_STRING) != OB_OK) {
        return;
    }
    p = store_obj_string_bytes(o, buf, &n);
    len = (long long) n;

    if (start < 0 && end < 0 && start > end) {
        store_reply_bulk(&c->r, "", 0);
        return;
    }
    if (start < 0) {
        start = len + start;
    }
    if (end < 0) {
        end = len + end;
    }
    if (start < 0) {
        start = 0;
    }
    if (end < 0) {
        end = 0;
    }
    if (end >= len) {
        end = len - 1;
    }
    if (start > end || len == 0) {
        store_reply_bulk(&c->r, "", 0);
        return;
    }
    store_reply_bulk(&c->r, p + start, (size_t) (end - start + 1));
}


static void
store_cmd_strlen(store_client_t *c)
{
    store_obj_t  *o = store_lookup_read(c, &c->argv[1]);

    if (o == NULL) {
        store_reply_int(&c->r, 0);
        return;
    }
    if (store_check_type_or_reply(c, o, STORE_OBJ_STRING) != OB_OK) {
        return;
    }
    store_reply_int(&c->r, (long long) store_obj_string_len(o));
}


/* ---- LCS ----------------------------------------------------------------- */

typedef struct store_lcs_range_s {
    uint32_t  a0, a1, b0, b1;
} store_lcs_range_t;


/*
 * LCS a b [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: Redis's dynamic
 * programming table of (alen+1)*(blen+1) uint32, malloc'd for the call
 * (transient, outside the arena) and refused over proto-max-bulk-len
 * with Redis's own error, so it is bounded at 512 MB.
 */
static void
store_cmd_lcs(store_client_t *c)
{
    store_obj_t        *oa, *ob;
    const char         *a = "", *b = "";
    size_t              na = 0, nb = 0, j, nranges = 0, k;
    long long           minmatchlen = 0;
    int                 getlen = 0, getidx = 0, withmatchlen = 0;
    uint32_t           *lcs, i, jj, idx, alen, blen, lcs1, lcs2, match_len;
    uint32_t            as, ae, bs, be;
    unsigned long long  cells;
    char               *result = NULL;
    store_lcs_range_t  *ranges = NULL;
    int                 emit;
    char                bufa[STORE_OBJ_INTBUF], bufb[STORE_OBJ_INTBUF];

    oa = store_lookup_read(c, &c->argv[1]);
    ob = store_lookup_read(c, &c->argv[2]);
    if ((oa != NULL && oa->type != STORE_OBJ_STRING)
        || (ob != NULL && ob->type != STORE_OBJ_STRING))
    {
        store_add_err(c, "ERR The specified keys must contain string values");
        return;
    }
    if (oa != NULL) {
        a = store_obj_string_bytes(oa, bufa, &na);
    }
    if (ob != NULL) {
        b = store_obj_string_bytes(ob, bufb, &nb);
    }

    for (j = 3; j < c->argc; j++) {
        if (store_arg_is(&c->argv[j], "idx")) {
            getidx = 1;
        } else if (store_arg_is(&c->argv[j], "len")) {
            getlen = 1;
        } else if (store_arg_is(&c->argv[j], "withmatchlen")) {
            withmatchlen = 1;
        } else if (store_arg_is(&c->argv[j], "minmatchlen")
                   && j + 1 < c->argc)
        {
            if (store_get_ll_or_reply(c, &c->argv[j + 1], &minmatchlen, NULL)
                != OB_OK)
            {
                return;
            }
            if (minmatchlen < 0) {
                minmatchlen = 0;
            }
            j++;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    if (getidx && getlen) {
        store_add_err(c, "ERR If you want both the length and indexes, "
                         "please just use IDX.");
        return;
    }
    if (na >= UINT32_MAX - 1 || nb >= UINT32_MAX - 1) {
        store_add_err(c, "ERR String too long for LCS");
        return;
    }
    alen = (uint32_t) na;
    blen = (uint32_t) nb;
    cells = (unsigned long long) (alen + 1ULL) * (blen + 1ULL);
    if (cells * sizeof(uint32_t) > (unsigned long long) STORE_STR_MAX) {
        store_add_err(c, "ERR Insufficient memory, transient memory for LCS "
                         "exceeds proto-max-bulk-len");
        return;
    }
    lcs = malloc(cells * sizeof(uint32_t));
    if (lcs == NULL) {
        store_add_err(c, "ERR Insufficient memory, failed allocating "
                         "transient memory for LCS");
        return;
    }

#define LCS(x, y)  lcs[(y) + (size_t) (x) * (blen + 1)]

    for (i = 0; i <= alen; i++) {
        for (jj = 0; jj <= blen; jj++) {
            if (i == 0 || jj == 0) {
                LCS(i, jj) = 0;
            } else if (a[i - 1] == b[jj - 1]) {
                LCS(i, jj) = LCS(i - 1, jj - 1) + 1;
            } else {
                lcs1 = LCS(i - 1, jj);
                lcs2 = LCS(i, jj - 1);
                LCS(i, jj) = lcs1 > lcs2 ? lcs1 : lcs2;
            }
        }
    }

    idx = LCS(alen, blen);
    if (getidx || !getlen) {
        result = malloc(idx + 1);
        /* a range per matched byte at most */
        ranges = getidx ? malloc((idx + 1) * sizeof(*ranges)) : NULL;
        if (result == NULL || (getidx && ranges == NULL)) {
            free(result);
            free(ranges);
            free(lcs);
            store_add_err(c, "ERR Insufficient memory, failed allocating "
                             "transient memory for LCS");
            return;
        }

        /* Redis's walk back through the table, range by range */
        as = alen;
        ae = bs = be = 0;
        i = alen;
        jj = blen;
        while (i > 0 && jj > 0) {
            emit = 0;
            if (a[i - 1] == b[jj - 1]) {
                result[idx - 1] = a[i - 1];
                if (as == alen) {
                    as = i - 1;
                    ae = i - 1;
                    bs = jj - 1;
                    be = jj - 1;
                } else if (as == i && bs == jj) {
                    as--;
                    bs--;
                } else {
                    emit = 1;
                }
                if (as == 0 || bs == 0) {
                    emit = 1;
                }
                idx--;
                i--;
                jj--;
            } else {
                lcs1 = LCS(i - 1, jj);
                lcs2 = LCS(i, jj - 1);
                if (lcs1 > lcs2) {
                    i--;
                } else {
                    jj--;
                }
                if (as != alen) {
                    emit = 1;
                }
            }
            match_len = ae - as + 1;
            if (emit) {
                if (ranges != NULL
                    && (minmatchlen == 0
                        || (long long) match_len >= minmatchlen))
                {
                    ranges[nranges].a0 = as;
                    ranges[nranges].a1 = ae;
                    ranges[nranges].b0 = bs;
                    ranges[nranges].b1 = be;
                    nranges++;
                }
                as = alen;
            }
        }
    }

    if (getidx) {
        store_reply_map(&c->r, 2);
        store_reply_bulk(&c->r, "matches", 7);
        store_reply_array(&c->r, nranges);
        for (k = 0; k < nranges; k++) {
            store_reply_array(&c->r, 2 + (size_t) withmatchlen);
            store_reply_array(&c->r, 2);
            store_reply_int(&c->r, ranges[k].a0);
            store_reply_int(&c->r, ranges[k].a1);
            store_reply_array(&c->r, 2);
            store_reply_int(&c->r, ranges[k].b0);
            store_reply_int(&c->r, ranges[k].b1);
            if (withmatchlen) {
                store_reply_int(&c->r, ranges[k].a1 - ranges[k].a0 + 1);
            }
        }
        store_reply_bulk(&c->r, "len", 3);
        store_reply_int(&c->r, LCS(alen, blen));
    } else if (getlen) {
        store_reply_int(&c->r, idx);
    } else {
        store_reply_bulk(&c->r, result, LCS(alen, blen));
    }
#undef LCS
    free(result);
    free(ranges);
    free(lcs);
}


/* ---- the table ----------------------------------------------------------- */

#define W   OB_CMD_WRITE
#define RO  OB_CMD_READONLY
#define F   OB_CMD_FAST
#define DO  STORE_CMD_DENYOOM

const store_cmd_t store_cmds_string[] = {
    { .base = { .name = "get", .arity_min = 2, .arity_max = 2,
                .flags = RO | F },
      .handler = store_cmd_get, .keys = { 1, 1, 1 },
      .acl = "@read @string @fast" },
    { .base = { .name = "set", .arity_min = 3, .arity_max = -1,
                .flags = W | DO },
      .handler = store_cmd_set, .keys = { 1, 1, 1 },
      .acl = "@write @string @slow" },
    { .base = { .name = "setnx", .arity_min = 3, .arity_max = 3,
                .flags = W | DO | F },
      .handler = store_cmd_setnx, .keys = { 1, 1, 1 },
      .acl = "@write @string @fast" },
    { .base = { .name = "setex", .arity_min = 4, .arity_max = 4,
                .flags = W | DO },
      .handler = store_cmd_setex, .keys = { 1, 1, 1 },
      .acl = "@write @string @slow" },
    { .base = { .name = "psetex", .arity_min = 4, .arity_max = 4,
                .flags = W | DO },
      .handler = store_cmd_psetex, .keys = { 1, 1, 1 },
      .acl = "@write @string @slow" },
    { .base = { .name = "getset", .arity_min = 3, .arity_max = 3,
                .flags = W | DO | F },
      .handler = store_cmd_getset, .keys = { 1, 1, 1 },
      .acl = "@write @string @fast" },
    { .base = { .name = "getdel", .arity_min = 2, .arity_max = 2,
                .flags = W | F },
      .handler = store_cmd_getdel, .keys = { 1, 1, 1 },
      .acl = "@write @string @fast" },
    { .base = { .name = "getex", .arity_min = 2, .arity_max = -1,
                .flags = W | F },
      .handler = store_cmd_getex, .keys = { 1, 1, 1 },
      .acl = "@write @string @fast" },
    { .base = { .name = "mget", .arity_min = 2, .arity_max = -1,
                .flags = RO | F },
      .handler = store_cmd_mget, .keys = { 1, -1, 1 },
      .acl = "@read @string @fast" },
    { .base = { .name = "mset", .arity_min = 3, .arity_max = -1,
                .flags = W | DO },
      .handler = store_cmd_mset, .keys = { 1, -1, 2 },
      .acl = "@write @string @slow" },
    { .base = { .name = "msetnx", .arity_min = 3, .arity_max = -1,
                .flags = W | DO },
      .handler = store_cmd_msetnx, .keys = { 1, -1, 2 },
      .acl = "@write @string @slow" },
    { .base = { .name = "incr", .arity_min = 2, .arity_max = 2,
                .flags = W | DO | F },
      .handler = store_cmd_incr, .keys = { 1, 1, 1 },
      .acl = "@write @string @fast" },
    { .base = { .name = "decr", .arity_min = 2, .arity_max = 2,
                .flags = W | DO | F },
      .handler = store_cmd_decr, .keys = { 1, 1, 1 },
      .acl = "@write @string @fast" },
    { .base = { .name = "incrby", .arity_min = 3, .arity_max = 3,
                .flags = W | DO | F },
      .handler = store_cmd_incrby, .keys = { 1, 1, 1 },
      .acl = "@write @string @fast" },
    { .base = { .name = "decrby", .arity_min = 3, .arity_max = 3,
                .flags = W | DO | F },
      .handler = store_cmd_decrby, .keys = { 1, 1, 1 },
      .acl = "@write @string @fast" },
    { .base = { .name = "incrbyfloat", .arity_min = 3, .arity_max = 3,
                .flags = W | DO | F },
      .handler = store_cmd_incrbyfloat, .keys = { 1, 1, 1 },
      .acl = "@write @string @fast" },
    { .base = { .name = "append", .arity_min = 3, .arity_max = 3,
                .flags = W | DO | F },
      .handler = store_cmd_append, .keys = { 1, 1, 1 },
      .acl = "@write @string @fast" },
    { .base = { .name = "strlen", .arity_min = 2, .arity_max = 2,
                .flags = RO | F },
      .handler = store_cmd_strlen, .keys = { 1, 1, 1 },
      .acl = "@read @string @fast" },
    { .base = { .name = "getrange", .arity_min = 4, .arity_max = 4,
                .flags = RO },
      .handler = store_cmd_getrange, .keys = { 1, 1, 1 },
      .acl = "@read @string @slow" },
    { .base = { .name = "substr", .arity_min = 4, .arity_max = 4,
                .flags = RO },
      .handler = store_cmd_getrange, .keys = { 1, 1, 1 },
      .acl = "@read @string @slow" },
    { .base = { .name = "setrange", .arity_min = 4, .arity_max = 4,
                .flags = W | DO },
      .handler = store_cmd_setrange, .keys = { 1, 1, 1 },
      .acl = "@write @string @slow" },
    { .base = { .name = "lcs", .arity_min = 3, .arity_max = -1,
                .flags = RO },
      .handler = store_cmd_lcs, .keys = { 1, 2, 1 },
      .acl = "@read @string @slow" },
    { .base = { .name = NULL } }
};
