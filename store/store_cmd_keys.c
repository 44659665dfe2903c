/*
 * store_cmd_keys.c: the generic keyspace commands (Redis 7.0's db.c,
 * expire.c and object.c commands): DEL, EXISTS, TYPE, KEYS, SCAN,
 * RANDOMKEY, RENAME, the EXPIRE family and the TTL family, PERSIST,
 * DBSIZE, SELECT, MOVE, SWAPDB, FLUSHDB/FLUSHALL, COPY, OBJECT, TOUCH.
 *
 * The keyspace semantics (lazy expiry, TTLs moving with RENAME and MOVE,
 * SCAN's guarantees, the glob) live in store_db.c; these handlers parse
 * arguments, choose Redis's replies and errors, and signal changes
 * (WATCH, keyspace events, the dirty counter) through store_key_changed.
 *
 * As in the string commands, an allocation may run the eviction hook,
 * which deletes keys: COPY measures its source, allocates the copy, and
 * looks the source up again before reading it.
 */
#include "store_srv.h"
#include "store_persist.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The generic commands reach past store_int.h into the server's struct
 * (store_srv.h): the databases (SELECT, MOVE, SWAPDB, COPY DB), WATCH's
 * flush hook (FLUSHDB, FLUSHALL, SWAPDB) and the maxmemory policy (OBJECT
 * FREQ, IDLETIME, REFCOUNT).
 */
#define KEY(a)  (a)->data, (a)->len

/* Redis's OBJ_SHARED_INTEGERS: OBJECT REFCOUNT of such ints is INT_MAX */
#define STORE_SHARED_INTEGERS  10000


static int
store_keys_is_same(const ob_str_t *a, const ob_str_t *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}


/* getIntFromObjectOrReply: an int argument; `msg` (or Redis's texts)
 * otherwise.  OB_ERR: replied. */
static int
store_keys_int_or_reply(store_client_t *c, const ob_str_t *a, int *v,
    const char *msg)
{
    long long  ll;

    if (store_get_ll_or_reply(c, a, &ll, msg) != OB_OK) {
        return OB_ERR;
    }
    if (ll < INT_MIN || ll > INT_MAX) {
        /* Redis's getRangeLongFromObjectOrReply under getIntFromObject */
        store_add_err(c, msg != NULL ? msg
                                     : "ERR value is out of range, value must "
                                       "between -2147483648 and 2147483647");
        return OB_ERR;
    }
    *v = (int) ll;
    return OB_OK;
}


/* A database index argument: OB_ERR replied ("not an integer", "DB index
 * is out of range"). */
static int
store_keys_dbid_or_reply(store_client_t *c, const ob_str_t *a, int *id,
    const char *msg)
{
    if (store_keys_int_or_reply(c, a, id, msg) != OB_OK) {
        return OB_ERR;
    }
    if (store_dbs_db(store_dbs(c), *id) == NULL) {
        store_add_err(c, STORE_ERR_DB_INDEX);
        return OB_ERR;
    }
    return OB_OK;
}


/*
 * A key that came into db `dbid` by RENAME, MOVE, COPY or SWAPDB may be
 * a list, sorted set or stream that clients of that db wait on (Redis's
 * dbAdd signals it).
 */
static void
store_keys_ready_in(store_client_t *c, int dbid, const ob_str_t *key)
{
    store_db_t   *db = store_dbs_db(store_dbs(c), dbid);
    store_obj_t  *o;

    if (c->st->blocked_clients == 0 || db == NULL) {
        return;
    }
    o = store_db_lookup_read(db, KEY(key), store_now_ms(c),
                             STORE_LOOKUP_NOTOUCH);
    if (o == NULL || (o->type != STORE_OBJ_LIST && o->type != STORE_OBJ_ZSET
                      && o->type != STORE_OBJ_STREAM))
    {
        return;
    }
    store_key_ready_db(c, dbid, key);
}


typedef struct store_keys_swap_ctx_s {
    store_client_t  *c;
    int              a, b;
} store_keys_swap_ctx_t;


static void
store_keys_swap_ready(ob_hash_link_t *l, void *arg)
{
    store_keys_swap_ctx_t  *x = arg;
    store_keyref_t         *ref = OB_HASH_ENTRY(l, store_keyref_t, hlink);
    ob_str_t                key;

    if (ref->nwaiters == 0 || (ref->dbid != x->a && ref->dbid != x->b)) {
        return;
    }
    key.data = (const uint8_t *) ref->key;
    key.len = ref->nkey;
    store_keys_ready_in(x->c, ref->dbid, &key);
}


/* ---- DEL, UNLINK, EXISTS, TOUCH, TYPE ------------------------------------ */

static void
store_cmd_del(store_client_t *c)
{
    long long  n = 0;
    size_t     j;

    for (j = 1; j < c->argc; j++) {
        if (store_db_delete(c->db, KEY(&c->argv[j]), store_now_ms(c))
            == OB_OK)
        {
            store_key_changed(c, &c->argv[j], STORE_NOTIFY_GENERIC, "del");
            n++;
        }
    }
    store_reply_int(&c->r, n);
}


static void
store_cmd_exists(store_client_t *c)
{
    long long  n = 0;
    size_t     j;

    for (j = 1; j < c->argc; j++) {
        n += store_db_key_is_live(c->db, KEY(&c->argv[j]), store_now_ms(c));
    }
    store_reply_int(&c->r, n);
}


static void
store_cmd_touch(store_client_t *c)
{
    long long  n = 0;
    size_t     j;

    for (j = 1; j < c->argc; j++) {
        n += store_lookup_read(c, &c->argv[j]) != NULL;
    }
    store_reply_int(&c->r, n);
}


static void
store_cmd_type(store_client_t *c)
{
    store_obj_t  *o;
    const char   *t;

    o = store_db_lookup_read(c->db, KEY(&c->argv[1]), store_now_ms(c),
                             STORE_LOOKUP_NOTOUCH);
    t = o != NULL ? store_obj_type_name(o) : "none";
    store_reply_simple(&c->r, t, strlen(t));
}


/* ---- KEYS, SCAN, RANDOMKEY, DBSIZE --------------------------------------- */

/* Keys gathered by a walk, borrowed from their entries (the walk deletes
 * only expired keys, which it does not gather). */
typedef struct store_keys_vec_s {
    ob_str_t  *v;
    size_t     n;
    size_t     cap;
    int        failed;
} store_keys_vec_t;


static void
store_keys_collect(void *arg, const store_entry_t *e)
{
    store_keys_vec_t  *kv = arg;
    ob_str_t          *nv;
    size_t             cap;

    if (kv->failed) {
        return;
    }
    if (kv->n == kv->cap) {
        cap = kv->cap == 0 ? 16 : kv->cap * 2;
        nv = realloc(kv->v, cap * sizeof(*nv));
        if (nv == NULL) {
            kv->failed = 1;
            return;
        }
        kv->v = nv;
        kv->cap = cap;
    }
    kv->v[kv->n].data = (const uint8_t *) e->key;
    kv->v[kv->n].len = e->nkey;
    kv->n++;
}


static void
store_keys_reply_vec(store_client_t *c, const store_keys_vec_t *kv)
{
    size_t  i;

    store_reply_array(&c->r, kv->n);
    for (i = 0; i < kv->n; i++) {
        store_reply_bulk(&c->r, kv->v[i].data, kv->v[i].len);
    }
}


static void
store_cmd_keys(store_client_t *c)
{
    store_keys_vec_t   kv = { 0 };
    const ob_str_t    *pat = &c->argv[1];
    const char        *match = (const char *) pat->data;
    uint64_t           cursor = 0;

    if (pat->len == 1 && pat->data[0] == '*') {
        match = NULL;
    }
    do {
        cursor = store_db_scan(c->db, cursor, SIZE_MAX / 16, match, pat->len,
                               -1, store_now_ms(c), store_keys_collect, &kv);
    } while (cursor != 0);

    if (kv.failed) {
        store_add_err(c, STORE_ERR_OOM);
    } else {
        store_keys_reply_vec(c, &kv);
    }
    free(kv.v);
}


/*
 * Redis's parseScanCursorOrReply: strtoul's rules (a sign is accepted,
 * "-1" wraps; an empty cursor is 0), no leading space, nothing after the
 * digits, no overflow.
 */
static int
store_keys_cursor_or_reply(store_client_t *c, const ob_str_t *a,
    uint64_t *cursor)
{
    char                *buf, *end;
    unsigned long long   v;
    int                  bad;

    buf = malloc(a->len + 1);
    if (buf == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return OB_ERR;
    }
    memcpy(buf, a->data, a->len);
    buf[a->len] = '\0';
    errno = 0;
    v = strtoull(buf, &end, 10);
    bad = (a->len > 0 && (buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r')))
          || *end != '\0' || errno == ERANGE;
    free(buf);
    if (bad) {
        store_add_err(c, STORE_ERR_CURSOR);
        return OB_ERR;
    }
    *cursor = v;
    return OB_OK;
}


static void
store_cmd_scan(store_client_t *c)
{
    store_keys_vec_t   kv = { 0 };
    const char        *match = NULL;
    size_t             nmatch = 0, i, rest;
    long long          count = STORE_SCAN_DEFAULT_COUNT;
    uint64_t           cursor;
    int                type = -1;
    size_t             n;
    char               buf[STORE_REPLY_LL_MAX];

    if (store_keys_cursor_or_reply(c, &c->argv[1], &cursor) != OB_OK) {
        return;
    }
    for (i = 2; i < c->argc; i += 2) {
        rest = c->argc - i;
        if (store_arg_is(&c->argv[i], "count") && rest >= 2) {
            if (store_get_ll_or_reply(c, &c->argv[i + 1], &count, NULL)
                != OB_OK)
            {
                return;
            }
            if (count < 1) {
                store_add_err(c, STORE_ERR_SYNTAX);
                return;
            }
        } else if (store_arg_is(&c->argv[i], "match") && rest >= 2) {
            match = (const char *) c->argv[i + 1].data;
            nmatch = c->argv[i + 1].len;
            if (nmatch == 1 && match[0] == '*') {
                match = NULL;
            }
        } else if (store_arg_is(&c->argv[i], "type") && rest >= 2) {
            type = store_obj_type_by_name((const char *) c->argv[i + 1].data,
                                          c->argv[i + 1].len);
            if (type < 0) {
                /* Redis 7.0 filters every key out by an unknown name */
                type = STORE_OBJ_NTYPES;
            }
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }

    cursor = store_db_scan(c->db, cursor, (size_t) count, match, nmatch, type,
                           store_now_ms(c), store_keys_collect, &kv);
    if (kv.failed) {
        free(kv.v);
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    n = (size_t) snprintf(buf, sizeof(buf), "%llu",
                          (unsigned long long) cursor);
    store_reply_array(&c->r, 2);
    store_reply_bulk(&c->r, buf, n);
    store_keys_reply_vec(c, &kv);
    free(kv.v);
}


static void
store_cmd_randomkey(store_client_t *c)
{
    store_entry_t  *e = store_db_random(c->db, store_now_ms(c));

    if (e == NULL) {
        store_reply_null(&c->r);
        return;
    }
    store_reply_bulk(&c->r, e->key, e->nkey);
}


static void
store_cmd_dbsize(store_client_t *c)
{
    store_reply_int(&c->r, (long long) store_db_size(c->db));
}


/* ---- RENAME, RENAMENX ---------------------------------------------------- */

static void
store_keys_rename_generic(store_client_t *c, int nx)
{
    const ob_str_t  *src = &c->argv[1], *dst = &c->argv[2];
    int              rc;

    if (store_keys_is_same(src, dst)) {
        /* no change, but a missing key is still an error */
        if (!store_db_key_is_live(c->db, KEY(src), store_now_ms(c))) {
            store_add_err(c, STORE_ERR_NO_KEY);
        } else if (nx) {
            store_reply_int(&c->r, 0);
        } else {
            store_add_ok(c);
        }
        return;
    }

    rc = store_db_rename(c->db, KEY(src), KEY(dst), nx, store_now_ms(c));
    switch (rc) {
    case OB_OK:
        store_key_changed(c, src, STORE_NOTIFY_GENERIC, "rename_from");
        store_key_changed(c, dst, STORE_NOTIFY_GENERIC, "rename_to");
        /* one change for Redis (renameGenericCommand's dirty++), not two */
        store_dirty_add(c, -1);
        store_keys_ready_in(c, c->dbid, dst);
        if (nx) {
            store_reply_int(&c->r, 1);
        } else {
            store_add_ok(c);
        }
        return;
    case OB_DECLINED:
        store_add_err(c, STORE_ERR_NO_KEY);
        return;
    case OB_BUSY:
        store_reply_int(&c->r, 0);
        return;
    default:
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
}


static void
store_cmd_rename(store_client_t *c)
{
    store_keys_rename_generic(c, 0);
}


static void
store_cmd_renamenx(store_client_t *c)
{
    store_keys_rename_generic(c, 1);
}


/* ---- EXPIRE and friends -------------------------------------------------- */

#define EXP_NX  0x1
#define EXP_XX  0x2
#define EXP_GT  0x4
#define EXP_LT  0x8

/* A literal as a propagated argument. */
#define PROP_LIT(s)  { sizeof(s) - 1, (const uint8_t *) (s) }


/* A TTL set in the past deleted the key: the AOF and the replicas get
 * the deletion itself (Redis's expireGenericCommand rewrites to DEL). */
static void
store_keys_propagate_del(store_client_t *c, const ob_str_t *key)
{
    ob_str_t  argv[2] = { PROP_LIT("DEL"), *key };

    store_propagate_cmd(c, argv, 2);
}


/* A relative (or seconds) TTL is propagated as PEXPIREAT <abs ms>, so
 * that a replay later, or on a replica, expires the key at the same
 * instant.  As Redis: argv[0] becomes PEXPIREAT unless it already is one
 * (then the client's spelling stays), the time is replaced only when it
 * was not already absolute ms, and the options follow as received. */
static void
store_keys_propagate_pexpireat(store_client_t *c, int64_t when, int rewrite)
{
    ob_str_t  stack[8], *argv = stack;
    char      num[32];
    size_t    j;

    if (!rewrite) {
        return;                     /* PEXPIREAT: goes as received */
    }
    /* options may repeat ("gt gt gt ..."): a long line gets the heap */
    if (c->argc > 8) {
        argv = malloc(c->argc * sizeof(*argv));
        if (argv == NULL) {
            return;                 /* then it goes as received */
        }
    }
    argv[0] = (ob_str_t) PROP_LIT("PEXPIREAT");
    argv[1] = c->argv[1];
    argv[2].len = (size_t) snprintf(num, sizeof(num), "%lld",
                                    (long long) when);
    argv[2].data = (const uint8_t *) num;
    for (j = 3; j < c->argc; j++) {
        argv[j] = c->argv[j];
    }
    store_propagate_cmd(c, argv, c->argc);
    if (argv != stack) {
        free(argv);
    }
}


/*
 * Redis's expireGenericCommand: `basetime` is now (EXPIRE, PEXPIRE) or 0
 * (the AT forms), `seconds` the unit.  The options come first (an unknown
 * one is reported before the number is read), a time in the past deletes
 * the key, a key without TTL counts as infinite for GT and LT.
 */
static void
store_keys_expire_generic(store_client_t *c, int64_t basetime, int seconds)
{
    const ob_str_t  *key = &c->argv[1];
    const ob_str_t  *a;
    unsigned         flags = 0;
    long long        when;
    int64_t          cur, now = store_now_ms(c);
    size_t           j;
    int              rc;

    for (j = 3; j < c->argc; j++) {
        a = &c->argv[j];
        if (store_arg_is(a, "nx")) {
            flags |= EXP_NX;
        } else if (store_arg_is(a, "xx")) {
            flags |= EXP_XX;
        } else if (store_arg_is(a, "gt")) {
            flags |= EXP_GT;
        } else if (store_arg_is(a, "lt")) {
            flags |= EXP_LT;
        } else {
            store_add_errf(c, "ERR Unsupported option %.*s", (int) a->len,
                           (const char *) a->data);
            return;
        }
    }
    if ((flags & EXP_NX) && (flags & (EXP_XX | EXP_GT | EXP_LT))) {
        store_add_err(c, "ERR NX and XX, GT or LT options at the same time "
                         "are not compatible");
        return;
    }
    if ((flags & EXP_GT) && (flags & EXP_LT)) {
        store_add_err(c, "ERR GT and LT options at the same time are not "
                         "compatible");
        return;
    }

    if (store_get_ll_or_reply(c, &c->argv[2], &when, NULL) != OB_OK) {
        return;
    }
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            store_add_errf(c, "ERR invalid expire time in '%s' command",
                           c->cmd->base.name);
            return;
        }
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) {
        store_add_errf(c, "ERR invalid expire time in '%s' command",
                       c->cmd->base.name);
        return;
    }
    when += basetime;

    if (store_lookup_write(c, key) == NULL) {
        store_reply_int(&c->r, 0);
        return;
    }
    cur = store_db_expire_get(c->db, KEY(key), now);
    if (((flags & EXP_NX) && cur != -1)
        || ((flags & EXP_XX) && cur == -1)
        || ((flags & EXP_GT) && (cur == -1 || when <= cur))
        || ((flags & EXP_LT) && cur != -1 && when >= cur))
    {
        store_reply_int(&c->r, 0);
        return;
    }

    if (when <= now) {
        (void) store_db_delete(c->db, KEY(key), now);
        store_key_changed(c, key, STORE_NOTIFY_GENERIC, "del");
        store_keys_propagate_del(c, key);
        store_reply_int(&c->r, 1);
        return;
    }
    rc = store_db_expire_set(c->db, KEY(key), when, now);
    if (rc == OB_ERR) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    if (rc == OB_DECLINED) {
        /* evicted while the TTL's entry was allocated */
        store_reply_int(&c->r, 0);
        return;
    }
    store_key_changed(c, key, STORE_NOTIFY_GENERIC, "expire");
    store_keys_propagate_pexpireat(c, when, basetime != 0 || seconds);
    store_reply_int(&c->r, 1);
}


static void
store_cmd_expire(store_client_t *c)
{
    store_keys_expire_generic(c, store_now_ms(c), 1);
}


static void
store_cmd_pexpire(store_client_t *c)
{
    store_keys_expire_generic(c, store_now_ms(c), 0);
}


static void
store_cmd_expireat(store_client_t *c)
{
    store_keys_expire_generic(c, 0, 1);
}


static void
store_cmd_pexpireat(store_client_t *c)
{
    store_keys_expire_generic(c, 0, 0);
}


/* Redis's ttlGenericCommand: TTL, PTTL, EXPIRETIME, PEXPIRETIME. */
static void
store_keys_ttl_generic(store_client_t *c, int ms, int absolute)
{
    int64_t  when, now = store_now_ms(c), ttl;

    when = store_db_expire_get(c->db, KEY(&c->argv[1]), now);
    if (when < 0) {
        store_reply_int(&c->r, when);
        return;
    }
    ttl = absolute ? when : when - now;
    if (ttl < 0) {
        ttl = 0;
    }
    store_reply_int(&c->r, ms ? ttl : (ttl + 500) / 1000);
}


static void
store_cmd_ttl(store_client_t *c)
{
    store_keys_ttl_generic(c, 0, 0);
}


static void
store_cmd_pttl(store_client_t *c)
{
    store_keys_ttl_generic(c, 1, 0);
}


static void
store_cmd_expiretime(store_client_t *c)
{
    store_keys_ttl_generic(c, 0, 1);
}


static void
store_cmd_pexpiretime(store_client_t *c)
{
    store_keys_ttl_generic(c, 1, 1);
}


static void
store_cmd_persist(store_client_t *c)
{
    if (store_db_persist(c->db, KEY(&c->argv[1]), store_now_ms(c)) != OB_OK) {
        store_reply_int(&c->r, 0);
        return;
    }
    store_key_changed(c, &c->argv[1], STORE_NOTIFY_GENERIC, "persist");
    store_reply_int(&c->r, 1);
}


/* ---- databases ----------------------------------------------------------- */

static void
store_cmd_select(store_client_t *c)
{
    int  id;

    if (store_keys_int_or_reply(c, &c->argv[1], &id, NULL) != OB_OK) {
        return;
    }
    if (store_dbs_db(store_dbs(c), id) == NULL) {
        store_add_err(c, STORE_ERR_DB_INDEX);
        return;
    }
    c->db = store_dbs_db(store_dbs(c), id);
    c->dbid = id;
    store_add_ok(c);
}


static void
store_cmd_move(store_client_t *c)
{
    const ob_str_t  *key = &c->argv[1];
    int              to, rc;

    if (store_keys_dbid_or_reply(c, &c->argv[2], &to, NULL) != OB_OK) {
        return;
    }
    if (to == c->dbid) {
        store_add_err(c, STORE_ERR_SAME_OBJ);
        return;
    }
    rc = store_dbs_move(store_dbs(c), c->dbid, to, KEY(key),
                        store_now_ms(c));
    if (rc != OB_OK) {
        store_reply_int(&c->r, 0);
        return;
    }
    store_key_changed(c, key, STORE_NOTIFY_GENERIC, "move_from");
    store_key_changed_db(c, to, key, STORE_NOTIFY_GENERIC, "move_to");
    store_dirty_add(c, -1);             /* one change for Redis, not two */
    store_keys_ready_in(c, to, key);
    store_reply_int(&c->r, 1);
}


static void
store_cmd_swapdb(store_client_t *c)
{
    int  a, b;

    if (store_keys_int_or_reply(c, &c->argv[1], &a,
                                "ERR invalid first DB index") != OB_OK
        || store_keys_int_or_reply(c, &c->argv[2], &b,
                                   "ERR invalid second DB index") != OB_OK)
    {
        return;
    }
    if (store_dbs_db(store_dbs(c), a) == NULL
        || store_dbs_db(store_dbs(c), b) == NULL)
    {
        store_add_err(c, STORE_ERR_DB_INDEX);
        return;
    }
    if (a != b) {
        /* a watched key changes if it exists on either side: before the
         * swap for the keys that leave, after it for those that come */
        store_watch_touch_db(c, a);
        store_watch_touch_db(c, b);
        (void) store_dbs_swap(store_dbs(c), a, b);
        store_watch_touch_db(c, a);
        store_watch_touch_db(c, b);
        /* clients blocked in either db may find their keys now */
        if (c->st->blocked_clients > 0) {
            store_keys_swap_ctx_t  x = { c, a, b };
            uint64_t               cursor = 0;

            do {
                cursor = ob_hash_scan(&c->st->blocking, cursor, SIZE_MAX,
                                      SIZE_MAX, store_keys_swap_ready, &x);
            } while (cursor != 0);
        }
    }
    /* One change, even for SWAPDB n n (Redis's swapdbCommand). */
    c->st->dirty++;
    store_add_ok(c);
}


/* FLUSHDB / FLUSHALL [ASYNC|SYNC]: OB_ERR replied. */
static int
store_keys_flush_opts_or_reply(store_client_t *c)
{
    if (c->argc == 1
        || (c->argc == 2 && (store_arg_is(&c->argv[1], "sync")
                             || store_arg_is(&c->argv[1], "async"))))
    {
        return OB_OK;
    }
    store_add_err(c, STORE_ERR_SYNTAX);
    return OB_ERR;
}


static void
store_cmd_flushdb(store_client_t *c)
{
    if (store_keys_flush_opts_or_reply(c) != OB_OK) {
        return;
    }
    store_watch_touch_db(c, c->dbid);
    c->st->dirty += store_db_size(c->db);
    store_db_flush(c->db);
    /* Written even when the db was empty (Redis 7.0 forces it). */
    store_propagate_cmd(c, c->argv, c->argc);
    store_add_ok(c);
}


static void
store_cmd_flushall(store_client_t *c)
{
    store_dbs_t  *dbs = store_dbs(c);
    int           i;

    if (store_keys_flush_opts_or_reply(c) != OB_OK) {
        return;
    }
    for (i = 0; i < dbs->ndb; i++) {
        store_watch_touch_db(c, i);
        c->st->dirty += store_db_size(store_dbs_db(dbs, i));
    }
    store_dbs_flushall(dbs);
    /* Redis 7.0.15 counts the keys removed and nothing more (measured:
     * FLUSHALL of an empty dataset leaves rdb_changes_since_last_save
     * where it was), but writes the command even then (it is forced
     * below); with save rules the empty dataset is then saved, which
     * clears the count. */
    store_save_flushall(c->st);
    store_propagate_cmd(c, c->argv, c->argc);
    store_add_ok(c);
}


/* ---- COPY ---------------------------------------------------------------- */

/*
 * A copy of the value at key (a string keeps its encoding, an aggregate
 * goes through store_obj_dup, which dispatches to its type).  A string is
 * measured, allocated, then read only if the key still holds it; NULL:
 * OOM or the key went meanwhile (*gone set).
 */
static store_obj_t *
store_keys_copy_value(store_client_t *c, const ob_str_t *key, int *gone)
{
    ob_arena_t   *a = store_arena(c);
    int           owner = store_owner(c);
    store_obj_t  *o, *d;
    const char   *p;
    size_t        len;
    int64_t       now = store_now_ms(c);
    char          buf[STORE_OBJ_EMBSTR_MAX + STORE_OBJ_INTBUF];

    *gone = 0;
    o = store_db_lookup_read(c->db, KEY(key), now, STORE_LOOKUP_NOTOUCH);
    if (o == NULL) {
        *gone = 1;
        return NULL;
    }
    if (o->type != STORE_OBJ_STRING) {
        return store_obj_dup(a, owner, o);
    }
    if (o->encoding == STORE_ENC_INT) {
        return store_obj_ll_new(a, owner, o->v.ll);
    }
    if (o->encoding == STORE_ENC_EMBSTR) {
        /* short: copied out before the allocation */
        p = store_obj_string_bytes(o, buf, &len);
        memcpy(buf, p, len);
        return store_obj_string_new(a, owner, buf, len);
    }

    len = o->len;
    d = store_obj_raw_new(a, owner, "", 0);
    if (d == NULL) {
        return NULL;
    }
    if (len > 0) {
        d->v.ptr = ob_arena_alloc(a, owner, store_obj_raw_cap(len));
        if (d->v.ptr == NULL) {
            store_obj_free(a, owner, d);
            return NULL;
        }
        d->len = (uint32_t) len;
    }
    if (store_db_lookup_read(c->db, KEY(key), now, STORE_LOOKUP_NOTOUCH)
        != o)
    {
        store_obj_free(a, owner, d);
        *gone = 1;
        return NULL;
    }
    if (len > 0) {
        memcpy(d->v.ptr, o->v.ptr, len);
    }
    return d;
}


static void
store_cmd_copy(store_client_t *c)
{
    const ob_str_t  *src = &c->argv[1], *dst = &c->argv[2];
    store_db_t      *ddb = c->db;
    store_obj_t     *d;
    int64_t          expire, now = store_now_ms(c);
    int              dbid = c->dbid, replace = 0, gone;
    size_t           j;

    for (j = 3; j < c->argc; j++) {
        if (store_arg_is(&c->argv[j], "replace")) {
            replace = 1;
        } else if (store_arg_is(&c->argv[j], "db") && j + 1 < c->argc) {
            if (store_keys_dbid_or_reply(c, &c->argv[j + 1], &dbid, NULL)
                != OB_OK)
            {
                return;
            }
            ddb = store_dbs_db(store_dbs(c), dbid);
            j++;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    if (dbid == c->dbid && store_keys_is_same(src, dst)) {
        store_add_err(c, STORE_ERR_SAME_OBJ);
        return;
    }

    if (store_lookup_read(c, src) == NULL) {
        store_reply_int(&c->r, 0);
        return;
    }
    if (!replace && store_db_lookup_write(ddb, KEY(dst), now,
                                          STORE_LOOKUP_NOTOUCH) != NULL)
    {
        store_reply_int(&c->r, 0);
        return;
    }

    d = store_keys_copy_value(c, src, &gone);
    if (d == NULL) {
        if (gone) {
            store_reply_int(&c->r, 0);          /* evicted meanwhile */
        } else {
            store_add_err(c, STORE_ERR_OOM);
        }
        return;
    }
    expire = store_db_expire_get(c->db, KEY(src), now);
    if (expire == -2
        || (!replace && store_db_lookup_write(ddb, KEY(dst), now,
                                              STORE_LOOKUP_NOTOUCH) != NULL))
    {
        store_obj_free(store_arena(c), store_owner(c), d);
        store_reply_int(&c->r, 0);
        return;
    }
    if (store_db_set(ddb, KEY(dst), d, 0, now) != OB_OK) {
        store_obj_free(store_arena(c), store_owner(c), d);
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    if (expire >= 0 && store_db_expire_set(ddb, KEY(dst), expire, now)
                       != OB_OK)
    {
        /* the copy cannot stay without its TTL */
        (void) store_db_delete(ddb, KEY(dst), now);
        store_key_changed_db(c, dbid, dst, STORE_NOTIFY_GENERIC, "del");
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_key_changed_db(c, dbid, dst, STORE_NOTIFY_GENERIC, "copy_to");
    store_keys_ready_in(c, dbid, dst);
    store_reply_int(&c->r, 1);
}


/* ---- OBJECT -------------------------------------------------------------- */

static const char *const store_object_help[] = {
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store "
    "the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned "
    "integer is",
    "    proportional to the logarithm of the recent access frequency of "
    "the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number "
    "of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the "
    "specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
    NULL
};


static int
store_object_lfu(const store_client_t *c)
{
    return c->st->maxmemory_policy == STORE_MAXMEM_ALLKEYS_LFU
           || c->st->maxmemory_policy == STORE_MAXMEM_VOLATILE_LFU;
}


/* Redis's OBJECT REFCOUNT: small non-negative ints are its shared
 * objects (INT_MAX) unless maxmemory with an LRU/LFU policy disables
 * them (MAXMEMORY_FLAG_NO_SHARED_INTEGERS). */
static long long
store_object_refcount(const store_client_t *c, const store_obj_t *o)
{
    store_maxmem_policy_t  p = c->st->maxmemory_policy;
    int                    no_shared;

    no_shared = c->st->maxmemory != 0
                && (p == STORE_MAXMEM_ALLKEYS_LRU || p == STORE_MAXMEM_ALLKEYS_LFU
                    || p == STORE_MAXMEM_VOLATILE_LRU
                    || p == STORE_MAXMEM_VOLATILE_LFU);
    if (o->type == STORE_OBJ_STRING && o->encoding == STORE_ENC_INT
        && o->v.ll >= 0 && o->v.ll < STORE_SHARED_INTEGERS && !no_shared)
    {
        return INT_MAX;
    }
    return 1;
}


static void
store_cmd_object_help(store_client_t *c)
{
    size_t  n;

    for (n = 0; store_object_help[n] != NULL; n++) {
        /* counted first */
    }
    store_reply_array(&c->r, n);
    for (n = 0; store_object_help[n] != NULL; n++) {
        store_reply_simple(&c->r, store_object_help[n],
                           strlen(store_object_help[n]));
    }
}


/* OBJECT's lookup: no LRU touch; a missing key is the null bulk. */
static store_obj_t *
store_object_lookup_or_reply(store_client_t *c)
{
    store_obj_t  *o;

    o = store_db_lookup_read(c->db, KEY(&c->argv[2]), store_now_ms(c),
                             STORE_LOOKUP_NOTOUCH);
    if (o == NULL) {
        store_reply_null(&c->r);
    }
    return o;
}


static void
store_cmd_object_encoding(store_client_t *c)
{
    store_obj_t  *o = store_object_lookup_or_reply(c);

    if (o != NULL) {
        store_reply_str(c, store_obj_encoding_name(o));
    }
}


static void
store_cmd_object_refcount(store_client_t *c)
{
    store_obj_t  *o = store_object_lookup_or_reply(c);

    if (o != NULL) {
        store_reply_int(&c->r, store_object_refcount(c, o));
    }
}


static void
store_cmd_object_idletime(store_client_t *c)
{
    store_obj_t  *o = store_object_lookup_or_reply(c);
    unsigned      now_clock, idle;

    if (o == NULL) {
        return;
    }
    if (store_object_lfu(c)) {
        store_add_err(c, "ERR An LFU maxmemory policy is selected, idle "
            "time not tracked. Please note that when switching between "
            "policies at runtime LRU and LFU data will take some time to "
            "adjust.");
        return;
    }
    /* Redis's estimateObjectIdleTime, in seconds */
    now_clock = store_lru_clock(store_now_ms(c));
    idle = now_clock >= o->lru ? now_clock - o->lru
                               : now_clock + (STORE_LRU_MAX - o->lru);
    store_reply_int(&c->r, idle);
}


static void
store_cmd_object_freq(store_client_t *c)
{
    store_obj_t  *o = store_object_lookup_or_reply(c);

    if (o == NULL) {
        return;
    }
    if (!store_object_lfu(c)) {
        store_add_err(c, "ERR An LFU maxmemory policy is not selected, "
            "access frequency not tracked. Please note that when "
            "switching between policies at runtime LRU and LFU data will "
            "take some time to adjust.");
        return;
    }
    store_reply_int(&c->r, (long long) store_obj_lfu_counter(
                               o, store_now_ms(c), &store_dbs(c)->lfu_conf));
}


/* ---- the table ----------------------------------------------------------- */

#define W   OB_CMD_WRITE
#define RO  OB_CMD_READONLY
#define F   OB_CMD_FAST
#define DO  STORE_CMD_DENYOOM

const store_cmd_t store_cmds_keys[] = {
    { .base = { .name = "del", .arity_min = 2, .arity_max = -1,
                .flags = W },
      .handler = store_cmd_del, .keys = { 1, -1, 1 },
      .acl = "@keyspace @write @slow" },
    { .base = { .name = "unlink", .arity_min = 2, .arity_max = -1,
                .flags = W | F },
      .handler = store_cmd_del, .keys = { 1, -1, 1 },
      .acl = "@keyspace @write @fast" },
    { .base = { .name = "exists", .arity_min = 2, .arity_max = -1,
                .flags = RO | F },
      .handler = store_cmd_exists, .keys = { 1, -1, 1 },
      .acl = "@keyspace @read @fast" },
    { .base = { .name = "type", .arity_min = 2, .arity_max = 2,
                .flags = RO | F },
      .handler = store_cmd_type, .keys = { 1, 1, 1 },
      .acl = "@keyspace @read @fast" },
    { .base = { .name = "keys", .arity_min = 2, .arity_max = 2,
                .flags = RO },
      .handler = store_cmd_keys, .keys = { 0, 0, 0 },
      .acl = "@keyspace @read @slow @dangerous" },
    { .base = { .name = "scan", .arity_min = 2, .arity_max = -1,
                .flags = RO },
      .handler = store_cmd_scan, .keys = { 0, 0, 0 },
      .acl = "@keyspace @read @slow" },
    { .base = { .name = "randomkey", .arity_min = 1, .arity_max = 1,
                .flags = RO },
      .handler = store_cmd_randomkey, .keys = { 0, 0, 0 },
      .acl = "@keyspace @read @slow" },
    { .base = { .name = "rename", .arity_min = 3, .arity_max = 3,
                .flags = W },
      .handler = store_cmd_rename, .keys = { 1, 2, 1 },
      .acl = "@keyspace @write @slow" },
    { .base = { .name = "renamenx", .arity_min = 3, .arity_max = 3,
                .flags = W | F },
      .handler = store_cmd_renamenx, .keys = { 1, 2, 1 },
      .acl = "@keyspace @write @fast" },
    { .base = { .name = "expire", .arity_min = 3, .arity_max = -1,
                .flags = W | F },
      .handler = store_cmd_expire, .keys = { 1, 1, 1 },
      .acl = "@keyspace @write @fast" },
    { .base = { .name = "pexpire", .arity_min = 3, .arity_max = -1,
                .flags = W | F },
      .handler = store_cmd_pexpire, .keys = { 1, 1, 1 },
      .acl = "@keyspace @write @fast" },
    { .base = { .name = "expireat", .arity_min = 3, .arity_max = -1,
                .flags = W | F },
      .handler = store_cmd_expireat, .keys = { 1, 1, 1 },
      .acl = "@keyspace @write @fast" },
    { .base = { .name = "pexpireat", .arity_min = 3, .arity_max = -1,
                .flags = W | F },
      .handler = store_cmd_pexpireat, .keys = { 1, 1, 1 },
      .acl = "@keyspace @write @fast" },
    { .base = { .name = "ttl", .arity_min = 2, .arity_max = 2,
                .flags = RO | F },
      .handler = store_cmd_ttl, .keys = { 1, 1, 1 },
      .acl = "@keyspace @read @fast" },
    { .base = { .name = "pttl", .arity_min = 2, .arity_max = 2,
                .flags = RO | F },
      .handler = store_cmd_pttl, .keys = { 1, 1, 1 },
      .acl = "@keyspace @read @fast" },
    { .base = { .name = "expiretime", .arity_min = 2, .arity_max = 2,
                .flags = RO | F },
      .handler = store_cmd_expiretime, .keys = { 1, 1, 1 },
      .acl = "@keyspace @read @fast" },
    { .base = { .name = "pexpiretime", .arity_min = 2, .arity_max = 2,
                .flags = RO | F },
      .handler = store_cmd_pexpiretime, .keys = { 1, 1, 1 },
      .acl = "@keyspace @read @fast" },
    { .base = { .name = "persist", .arity_min = 2, .arity_max = 2,
                .flags = W | F },
      .handler = store_cmd_persist, .keys = { 1, 1, 1 },
      .acl = "@keyspace @write @fast" },
    { .base = { .name = "dbsize", .arity_min = 1, .arity_max = 1,
                .flags = RO | F },
      .handler = store_cmd_dbsize, .keys = { 0, 0, 0 },
      .acl = "@keyspace @read @fast" },
    { .base = { .name = "select", .arity_min = 2, .arity_max = 2,
                .flags = F | STORE_CMD_LOADING | STORE_CMD_STALE },
      .handler = store_cmd_select, .keys = { 0, 0, 0 },
      .acl = "@fast @connection" },
    { .base = { .name = "move", .arity_min = 3, .arity_max = 3,
                .flags = W | F },
      .handler = store_cmd_move, .keys = { 1, 1, 1 },
      .acl = "@keyspace @write @fast" },
    { .base = { .name = "swapdb", .arity_min = 3, .arity_max = 3,
                .flags = W | F },
      .handler = store_cmd_swapdb, .keys = { 0, 0, 0 },
      .acl = "@keyspace @write @fast @dangerous" },
    { .base = { .name = "flushdb", .arity_min = 1, .arity_max = -1,
                .flags = W },
      .handler = store_cmd_flushdb, .keys = { 0, 0, 0 },
      .acl = "@keyspace @write @slow @dangerous" },
    { .base = { .name = "flushall", .arity_min = 1, .arity_max = -1,
                .flags = W },
      .handler = store_cmd_flushall, .keys = { 0, 0, 0 },
      .acl = "@keyspace @write @slow @dangerous" },
    { .base = { .name = "copy", .arity_min = 3, .arity_max = -1,
                .flags = W | DO },
      .handler = store_cmd_copy, .keys = { 1, 2, 1 },
      .acl = "@keyspace @write @slow" },
    { .base = { .name = "object", .arity_min = 2, .arity_max = -1,
                .flags = STORE_CMD_SUBCMDS },
      .acl = "@slow" },
    { .base = { .name = "object|encoding", .arity_min = 3, .arity_max = 3,
                .flags = RO },
      .handler = store_cmd_object_encoding, .keys = { 2, 2, 1 },
      .acl = "@keyspace @read @slow" },
    { .base = { .name = "object|freq", .arity_min = 3, .arity_max = 3,
                .flags = RO },
      .handler = store_cmd_object_freq, .keys = { 2, 2, 1 },
      .acl = "@keyspace @read @slow" },
    { .base = { .name = "object|idletime", .arity_min = 3, .arity_max = 3,
                .flags = RO },
      .handler = store_cmd_object_idletime, .keys = { 2, 2, 1 },
      .acl = "@keyspace @read @slow" },
    { .base = { .name = "object|refcount", .arity_min = 3, .arity_max = 3,
                .flags = RO },
      .handler = store_cmd_object_refcount, .keys = { 2, 2, 1 },
      .acl = "@keyspace @read @slow" },
    { .base = { .name = "object|help", .arity_min = 2, .arity_max = 2,
                .flags = STORE_CMD_LOADING | STORE_CMD_STALE },
      .handler = store_cmd_object_help, .keys = { 0, 0, 0 },
      .acl = "@keyspace @slow" },
    { .base = { .name = "touch", .arity_min = 2, .arity_max = -1,
                .flags = RO | F },
      .handler = store_cmd_touch, .keys = { 1, -1, 1 },
      .acl = "@keyspace @read @fast" },
    { .base = { .name = NULL } }
};
