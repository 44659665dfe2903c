/*
 * store_cmd_hash.c: the hash commands (Redis 7.0's t_hash.c): HSET HSETNX
 * HMSET HGET HMGET HDEL HEXISTS HLEN HSTRLEN HKEYS HVALS HGETALL HINCRBY
 * HINCRBYFLOAT HRANDFIELD HSCAN, over the type in store_hash.[ch].
 *
 * Writers follow one shape: look the key up for writing (WRONGTYPE is
 * answered there), or make a new empty hash that is bound to the key only
 * once something went in, so that a refused allocation never leaves an
 * empty hash in the keyspace; an aggregate HDEL empties is deleted.  Every
 * change is signalled once with store_key_changed, with Redis's event
 * names ("hset" for HSET, HMSET and HSETNX; "hdel"; "hincrby";
 * "hincrbyfloat").
 *
 * Replies, errors and the order of checks are Redis 7.0.15's, e.g.
 * HRANDFIELD parses its count and WITHVALUES before it looks the key up,
 * HSCAN its cursor before and its options after (a missing key answers an
 * empty scan whatever the options).  HRANDFIELD with a negative count
 * writes its fields one by one and stops when the connection's writer
 * fails (the output limit), so no count sizes an allocation.
 */
#include "store_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_glob.h"
#include "store_hash.h"


#define STORE_ERR_HASH_NOT_INT    "ERR hash value is not an integer"
#define STORE_ERR_HASH_NOT_FLOAT  "ERR hash value is not a float"
#define STORE_ERR_HASH_INCR_NAN   "ERR value is NaN or Infinity"
#define STORE_ERR_RANGE           "ERR value is out of range"
#define STORE_ERR_RANGE_LONG      "ERR value is out of range, value must " \
                                  "between -9223372036854775807 and " \
                                  "9223372036854775807"



/* ---- shared steps ------------------------------------------------------- */

/*
 * The hash at argv[1] for a write, or a new empty one (*created = 1, not
 * yet in the keyspace: store_hash_commit binds it).  NULL: replied
 * (WRONGTYPE, or OOM for the new hash).
 */
static store_obj_t *
store_hash_lookup_write_or_create(store_client_t *c, int *created /* OUT */)
{
    store_obj_t  *o;
    int           wrong;

    *created = 0;
    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_HASH, 1, &wrong);
    if (o != NULL || wrong) {
        return o;
    }
    o = store_hash_new(store_arena(c), store_owner(c));
    if (o == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return NULL;
    }
    *created = 1;
    return o;
}


/* Binds a hash made by store_hash_lookup_write_or_create to its key.
 * OB_ERR: replied OOM and freed it. */
static int
store_hash_commit(store_client_t *c, store_obj_t *o, int created)
{
    if (!created) {
        return OB_OK;
    }
    if (store_db_set(c->db, c->argv[1].data, c->argv[1].len, o, 0,
                     store_now_ms(c)) != OB_OK)
    {
        store_obj_free(store_arena(c), store_owner(c), o);
        store_add_err(c, STORE_ERR_OOM);
        return OB_ERR;
    }
    return OB_OK;
}


/* A write refused for memory (the hash is as it was): a new hash goes. */
static void
store_hash_oom(store_client_t *c, store_obj_t *o, int created)
{
    if (created) {
        store_obj_free(store_arena(c), store_owner(c), o);
    }
    store_add_err(c, STORE_ERR_OOM);
}


/* The hash at argv[1] for a read: NULL when missing (*wrong = 0: the
 * caller answers) or of another type (*wrong = 1: replied). */
static store_obj_t *
store_hash_lookup_read(store_client_t *c, int *wrong /* OUT */)
{
    return store_lookup_typed(c, &c->argv[1], STORE_OBJ_HASH, 0, wrong);
}


/* ---- HSET HMSET HSETNX --------------------------------------------------- */

/* HSET (the number of fields added) and HMSET (+OK): the same work. */
static void
store_hash_set_generic(store_client_t *c, int hmset)
{
    ob_arena_t   *a = store_arena(c);
    int           owner = store_owner(c);
    store_obj_t  *o;
    long long     added = 0;
    int           created;

    if (c->argc % 2 == 1) {
        store_add_err_arity(c, hmset ? "hmset" : "hset");
        return;
    }
    o = store_hash_lookup_write_or_create(c, &created);
    if (o == NULL) {
        return;
    }
    if (store_hash_try_convert(a, owner, o, &c->argv[2], c->argc - 2)
        != OB_OK)
    {
        store_hash_oom(c, o, created);
        return;
    }
    if (store_hash_set_many(a, owner, o, &c->argv[2], c->argc - 2, &added)
        != OB_OK)
    {
        store_hash_oom(c, o, created);
        return;
    }
    if (store_hash_commit(c, o, created) != OB_OK) {
        return;
    }
    if (hmset) {
        store_add_ok(c);
    } else {
        store_reply_int(&c->r, added);
    }
    store_key_changed(c, &c->argv[1], STORE_NOTIFY_HASH, "hset");
    /* Redis counts every pair given, new field or not, repeated or not
     * (hsetCommand's dirty += (argc - 2) / 2); store_key_changed counted
     * one of them. */
    store_dirty_add(c, (long long) (c->argc - 2) / 2 - 1);
}


static void
store_cmd_hset(store_client_t *c)
{
    store_hash_set_generic(c, 0);
}


static void
store_cmd_hmset(store_client_t *c)
{
    store_hash_set_generic(c, 1);
}


static void
store_cmd_hsetnx(store_client_t *c)
{
    store_obj_t  *o;
    int           created, rc;

    o = store_hash_lookup_write_or_create(c, &created);
    if (o == NULL) {
        return;
    }
    rc = store_hash_set(store_arena(c), store_owner(c), o, c->argv[2].data,
                        c->argv[2].len, c->argv[3].data, c->argv[3].len,
                        STORE_HASH_SET_NX);
    if (rc == OB_ERR) {
        store_hash_oom(c, o, created);
        return;
    }
    if (rc == 0) {
        store_reply_int(&c->r, 0);      /* it existed: created is 0 here */
        return;
    }
    if (store_hash_commit(c, o, created) != OB_OK) {
        return;
    }
    store_reply_int(&c->r, 1);
    store_key_changed(c, &c->argv[1], STORE_NOTIFY_HASH, "hset");
}


/* ---- reads of single fields ------------------------------------------------ */

static void
store_cmd_hget(store_client_t *c)
{
    store_obj_t    *o;
    const uint8_t  *v;
    size_t          len;
    int             wrong;
    char            buf[STORE_HASH_INTBUF];

    o = store_hash_lookup_read(c, &wrong);
    if (wrong) {
        return;
    }
    v = o != NULL ? store_hash_get(o, c->argv[2].data, c->argv[2].len, buf,
                                   &len)
                  : NULL;
    if (v == NULL) {
        store_reply_null(&c->r);
        return;
    }
    store_reply_bulk(&c->r, v, len);
}


static void
store_cmd_hmget(store_client_t *c)
{
    store_obj_t    *o;
    const uint8_t  *v;
    size_t          i, len;
    int             wrong;
    char            buf[STORE_HASH_INTBUF];

    o = store_hash_lookup_read(c, &wrong);
    if (wrong) {
        return;
    }
    store_reply_array(&c->r, c->argc - 2);
    for (i = 2; i < c->argc; i++) {
        v = o != NULL ? store_hash_get(o, c->argv[i].data, c->argv[i].len,
                                       buf, &len)
                      : NULL;
        if (v == NULL) {
            store_reply_null(&c->r);
        } else {
            store_reply_bulk(&c->r, v, len);
        }
    }
}


static void
store_cmd_hexists(store_client_t *c)
{
    store_obj_t  *o;
    int           wrong;

    o = store_hash_lookup_read(c, &wrong);
    if (wrong) {
        return;
    }
    store_reply_int(&c->r, o != NULL
                           && store_hash_exists(o, c->argv[2].data,
                                                c->argv[2].len));
}


static void
store_cmd_hlen(store_client_t *c)
{
    store_obj_t  *o;
    int           wrong;

    o = store_hash_lookup_read(c, &wrong);
    if (wrong) {
        return;
    }
    store_reply_int(&c->r, o != NULL ? (long long) store_hash_len(o) : 0);
}


static void
store_cmd_hstrlen(store_client_t *c)
{
    store_obj_t  *o;
    size_t        len = 0;
    int           wrong;
    char          buf[STORE_HASH_INTBUF];

    o = store_hash_lookup_read(c, &wrong);
    if (wrong) {
        return;
    }
    if (o == NULL
        || store_hash_get(o, c->argv[2].data, c->argv[2].len, buf, &len)
           == NULL)
    {
        len = 0;
    }
    store_reply_int(&c->r, (long long) len);
}


/* ---- HDEL ------------------------------------------------------------------ */

static void
store_cmd_hdel(store_client_t *c)
{
    store_obj_t  *o;
    size_t        i;
    long long     deleted = 0;
    int           wrong, rc, removed = 0;

    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_HASH, 1, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_int(&c->r, 0);
        }
        return;
    }
    for (i = 2; i < c->argc; i++) {
        rc = store_hash_del(store_arena(c), store_owner(c), o,
                            c->argv[i].data, c->argv[i].len);
        if (rc == OB_ERR) {
            if (deleted > 0) {
                store_key_changed(c, &c->argv[1], STORE_NOTIFY_HASH, "hdel");
                store_dirty_add(c, deleted - 1);
            }
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        deleted += rc;
        if (store_hash_len(o) == 0) {
            (void) store_db_delete(c->db, c->argv[1].data, c->argv[1].len,
                                   store_now_ms(c));
            removed = 1;
            break;
        }
    }
    store_reply_int(&c->r, deleted);
    if (deleted > 0) {
        store_key_changed(c, &c->argv[1], STORE_NOTIFY_HASH, "hdel");
        /* Redis counts each field deleted (hdelCommand's dirty += deleted) */
        store_dirty_add(c, deleted - 1);
        if (removed) {
            store_notify(c->st, c->dbid, &c->argv[1], STORE_NOTIFY_GENERIC,
                         "del");
        }
    }
}


/* ---- whole-hash reads -------------------------------------------------- */

#define STORE_HASH_KEYS  0x1
#define STORE_HASH_VALS  0x2

typedef struct store_hash_out_s {
    store_reply_t  *r;
    int             what;        /* STORE_HASH_KEYS | STORE_HASH_VALS */
    int             pairs;       /* RESP3 [field, value] arrays */
} store_hash_out_t;


static void
store_hash_out_one(void *arg, const uint8_t *f, size_t nf, const uint8_t *v,
    size_t nv)
{
    store_hash_out_t  *out = arg;

    if (out->r->failed) {
        return;
    }
    if (out->pairs) {
        store_reply_array(out->r, 2);
    }
    if (out->what & STORE_HASH_KEYS) {
        store_reply_bulk(out->r, f, nf);
    }
    if (out->what & STORE_HASH_VALS) {
        store_reply_bulk(out->r, v, nv);
    }
}


/* HKEYS, HVALS and HGETALL (a map: RESP3 "%n", RESP2 a flat array). */
static void
store_hash_getall_generic(store_client_t *c, int what)
{
    store_hash_out_t   out = { &c->r, what, 0 };
    store_obj_t       *o;
    size_t             len;
    int                wrong;

    o = store_hash_lookup_read(c, &wrong);
    if (wrong) {
        return;
    }
    len = o != NULL ? store_hash_len(o) : 0;
    if (what == (STORE_HASH_KEYS | STORE_HASH_VALS)) {
        store_reply_map(&c->r, len);
    } else {
        store_reply_array(&c->r, len);
    }
    if (o != NULL) {
        store_hash_foreach(o, store_hash_out_one, &out);
    }
}


static void
store_cmd_hkeys(store_client_t *c)
{
    store_hash_getall_generic(c, STORE_HASH_KEYS);
}


static void
store_cmd_hvals(store_client_t *c)
{
    store_hash_getall_generic(c, STORE_HASH_VALS);
}


static void
store_cmd_hgetall(store_client_t *c)
{
    store_hash_getall_generic(c, STORE_HASH_KEYS | STORE_HASH_VALS);
}


/* ---- HINCRBY HINCRBYFLOAT ---------------------------------------------- */

/* Stores the new value's text at argv[2] and binds a new hash.  OB_ERR:
 * replied. */
static int
store_hash_incr_store(store_client_t *c, store_obj_t *o, int created,
    const char *v, size_t nv)
{
    if (store_hash_set(store_arena(c), store_owner(c), o, c->argv[2].data,
                       c->argv[2].len, v, nv, 0) == OB_ERR)
    {
        store_hash_oom(c, o, created);
        return OB_ERR;
    }
    return store_hash_commit(c, o, created);
}


static void
store_cmd_hincrby(store_client_t *c)
{
    store_obj_t    *o;
    const uint8_t  *p;
    long long       incr, value = 0;
    size_t          len;
    int             created;
    char            buf[STORE_HASH_INTBUF], out[STORE_REPLY_LL_MAX];

    if (store_get_ll_or_reply(c, &c->argv[3], &incr, NULL) != OB_OK) {
        return;
    }
    o = store_hash_lookup_write_or_create(c, &created);
    if (o == NULL) {
        return;
    }
    p = store_hash_get(o, c->argv[2].data, c->argv[2].len, buf, &len);
    if (p != NULL && !store_str_is_ll((const char *) p, len, &value)) {
        store_add_err(c, STORE_ERR_HASH_NOT_INT);   /* not created: p */
        return;
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value)
        || (incr > 0 && value > 0 && incr > LLONG_MAX - value))
    {
        store_add_err(c, STORE_ERR_OVERFLOW);
        return;
    }
    value += incr;
    len = store_reply_ll_format(value, out);
    if (store_hash_incr_store(c, o, created, out, len) != OB_OK) {
        return;
    }
    store_reply_int(&c->r, value);
    store_key_changed(c, &c->argv[1], STORE_NOTIFY_HASH, "hincrby");
}


static void
store_cmd_hincrbyfloat(store_client_t *c)
{
    store_obj_t    *o;
    const uint8_t  *p;
    long double     incr, value = 0;
    ob_str_t        old;
    size_t          len;
    int             created;
    char            buf[STORE_HASH_INTBUF], out[STORE_LDBL_MAX];

    if (store_get_long_double_or_reply(c, &c->argv[3], &incr, NULL)
        != OB_OK)
    {
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        store_add_err(c, STORE_ERR_HASH_INCR_NAN);
        return;
    }
    o = store_hash_lookup_write_or_create(c, &created);
    if (o == NULL) {
        return;
    }
    p = store_hash_get(o, c->argv[2].data, c->argv[2].len, buf, &len);
    if (p != NULL) {
        old.data = p;
        old.len = len;
        if (store_parse_long_double(&old, &value) != OB_OK) {
            store_add_err(c, STORE_ERR_HASH_NOT_FLOAT);  /* not created */
            return;
        }
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        if (created) {
            store_obj_free(store_arena(c), store_owner(c), o);
        }
        store_add_err(c, STORE_ERR_NAN);
        return;
    }
    len = store_format_long_double(value, out);
    if (store_hash_incr_store(c, o, created, out, len) != OB_OK) {
        return;
    }
    store_reply_bulk(&c->r, out, len);
    store_key_changed(c, &c->argv[1], STORE_NOTIFY_HASH, "hincrbyfloat");
    {
        /* the result, not the increment (Redis writes HSET key field
         * value): float arithmetic must not be redone elsewhere */
        ob_str_t  argv[4] = {
            { 4, (const uint8_t *) "HSET" }, c->argv[1], c->argv[2],
            { len, (const uint8_t *) out } };

        store_propagate_cmd(c, argv, 4);
    }
}


/* ---- HRANDFIELD ---------------------------------------------------------- */

static void
store_hrandfield_count(store_client_t *c, long long l, int withvalues)
{
    store_hash_out_t   out;
    store_obj_t       *o;
    unsigned long long count;
    size_t             size, n;
    int                wrong;

    o = store_hash_lookup_read(c, &wrong);
    if (wrong) {
        return;
    }
    if (o == NULL || l == 0) {
        store_reply_array(&c->r, 0);     /* "*0" under RESP3 too */
        return;
    }
    out.r = &c->r;
    out.what = withvalues ? STORE_HASH_KEYS | STORE_HASH_VALS
                          : STORE_HASH_KEYS;
    out.pairs = withvalues && c->r.proto > 2;
    size = store_hash_len(o);

    if (l < 0 || l == 1) {
        /* with repeats (and a count of 1): `count` independent picks,
         * written as they are drawn; the header can be huge, the body
         * stops when the writer fails */
        count = l < 0 ? (unsigned long long) -l : 1;
        store_reply_array(&c->r, withvalues && c->r.proto == 2
                                 ? count * 2 : count);
        store_hash_random_many(o, store_random_state(c), count, store_hash_out_one,
                               &out, &c->r.failed);
        return;
    }

    /* distinct fields: never more than the hash holds */
    n = (unsigned long long) l < size ? (size_t) l : size;
    store_reply_array(&c->r, withvalues && c->r.proto == 2 ? n * 2 : n);
    if (n == size) {
        store_hash_foreach(o, store_hash_out_one, &out);
        return;
    }
    store_hash_random_distinct(o, store_random_state(c), n, store_hash_out_one,
                               &out);
}


static void
store_cmd_hrandfield(store_client_t *c)
{
    store_hash_out_t   out = { &c->r, STORE_HASH_KEYS, 0 };
    store_obj_t       *o;
    long long          l;
    int                wrong, withvalues = 0;

    if (c->argc >= 3) {
        if (store_get_ll_or_reply(c, &c->argv[2], &l, NULL) != OB_OK) {
            return;
        }
        if (l == LLONG_MIN) {
            /* Redis reads the count with a range of -LONG_MAX..LONG_MAX */
            store_add_err(c, STORE_ERR_RANGE_LONG);
            return;
        }
        if (c->argc > 4
            || (c->argc == 4 && !store_arg_is(&c->argv[3], "withvalues")))
        {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
        if (c->argc == 4) {
            withvalues = 1;
            if (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2) {
                store_add_err(c, STORE_ERR_RANGE);
                return;
            }
        }
        store_hrandfield_count(c, l, withvalues);
        return;
    }

    o = store_hash_lookup_read(c, &wrong);
    if (wrong) {
        return;
    }
    if (o == NULL) {
        store_reply_null(&c->r);
        return;
    }
    store_hash_random(o, store_random_state(c), store_hash_out_one, &out);
}


/* ---- HSCAN ------------------------------------------------------------- */

/* Redis's parseScanCursorOrReply: strtoul's reading (a sign is taken, "-1"
 * wraps), no leading space, nothing after the digits. */
static int
store_hash_cursor_or_reply(store_client_t *c, const ob_str_t *a,
    uint64_t *cursor /* OUT */)
{
    unsigned long  v;
    char           buf[64], *p = buf, *end;
    int            rc = OB_OK;

    if (a->len >= sizeof(buf)) {
        p = malloc(a->len + 1);
        if (p == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return OB_ERR;
        }
    }
    memcpy(p, a->data, a->len);
    p[a->len] = '\0';
    errno = 0;
    v = strtoul(p, &end, 10);
    if (isspace((unsigned char) p[0]) || end[0] != '\0' || errno == ERANGE) {
        store_add_err(c, STORE_ERR_CURSOR);
        rc = OB_ERR;
    }
    if (p != buf) {
        free(p);
    }
    *cursor = v;
    return rc;
}


typedef struct store_hscan_out_s {
    store_reply_t   r;           /* into buf, the client's protocol */
    const ob_str_t *match;       /* NULL: every field */
    size_t          n;           /* elements written */
} store_hscan_out_t;


static void
store_hscan_one(void *arg, const uint8_t *f, size_t nf, const uint8_t *v,
    size_t nv)
{
    store_hscan_out_t  *s = arg;

    if (s->match != NULL
        && !store_glob_match((const char *) s->match->data, s->match->len,
                             (const char *) f, nf, 0))
    {
        return;
    }
    store_reply_bulk(&s->r, f, nf);
    store_reply_bulk(&s->r, v, nv);
    s->n += 2;
}


static void
store_cmd_hscan(store_client_t *c)
{
    store_hscan_out_t   s;
    store_reply_buf_t   buf;
    store_obj_t        *o;
    uint64_t            cursor;
    long long           count = STORE_SCAN_DEFAULT_COUNT;
    size_t              j, len;
    int                 wrong;
    char                num[STORE_REPLY_LL_MAX];

    if (store_hash_cursor_or_reply(c, &c->argv[2], &cursor) != OB_OK) {
        return;
    }
    o = store_hash_lookup_read(c, &wrong);
    if (wrong) {
        return;
    }
    if (o == NULL) {
        store_reply_array(&c->r, 2);
        store_reply_bulk(&c->r, "0", 1);
        store_reply_array(&c->r, 0);
        return;
    }

    s.match = NULL;
    for (j = 3; j < c->argc; j += 2) {
        if (store_arg_is(&c->argv[j], "count") && j + 1 < c->argc) {
            if (store_get_ll_or_reply(c, &c->argv[j + 1], &count, NULL)
                != OB_OK)
            {
                return;
            }
            if (count < 1) {
                store_add_err(c, STORE_ERR_SYNTAX);
                return;
            }
        } else if (store_arg_is(&c->argv[j], "match") && j + 1 < c->argc) {
            /* "*" matches everything: no need to match */
            s.match = c->argv[j + 1].len == 1 && c->argv[j + 1].data[0] == '*'
                      ? NULL : &c->argv[j + 1];
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }

    /* The elements go to a buffer first: the array's length is known only
     * once MATCH has filtered them. */
    memset(&buf, 0, sizeof(buf));
    store_reply_init(&s.r, c->r.proto, store_reply_buf_write, &buf);
    s.n = 0;
    cursor = store_hash_scan(o, cursor, (size_t) count, store_hscan_one, &s);
    if (s.r.failed) {
        store_reply_buf_free(&buf);
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_reply_array(&c->r, 2);
    len = store_reply_ll_format((long long) cursor, num);
    store_reply_bulk(&c->r, num, len);
    store_reply_array(&c->r, s.n);
    if (buf.len > 0 && !c->r.failed
        && c->r.write(c->r.ctx, buf.data, buf.len) != OB_OK)
    {
        c->r.failed = 1;
    }
    store_reply_buf_free(&buf);
}


/* ---- the table --------------------------------------------------------- */

#define STORE_HASH_W   (OB_CMD_WRITE | STORE_CMD_DENYOOM | OB_CMD_FAST)
#define STORE_HASH_RF  (OB_CMD_READONLY | OB_CMD_FAST)

const store_cmd_t store_cmds_hash[] = {
    { .base = { .name = "hset", .arity_min = 4, .arity_max = -1,
                .flags = STORE_HASH_W },
      .handler = store_cmd_hset, .keys = { 1, 1, 1 },
      .acl = "@write @hash @fast" },
    { .base = { .name = "hsetnx", .arity_min = 4, .arity_max = 4,
                .flags = STORE_HASH_W },
      .handler = store_cmd_hsetnx, .keys = { 1, 1, 1 },
      .acl = "@write @hash @fast" },
    { .base = { .name = "hmset", .arity_min = 4, .arity_max = -1,
                .flags = STORE_HASH_W },
      .handler = store_cmd_hmset, .keys = { 1, 1, 1 },
      .acl = "@write @hash @fast" },
    { .base = { .name = "hget", .arity_min = 3, .arity_max = 3,
                .flags = STORE_HASH_RF },
      .handler = store_cmd_hget, .keys = { 1, 1, 1 },
      .acl = "@read @hash @fast" },
    { .base = { .name = "hmget", .arity_min = 3, .arity_max = -1,
                .flags = STORE_HASH_RF },
      .handler = store_cmd_hmget, .keys = { 1, 1, 1 },
      .acl = "@read @hash @fast" },
    { .base = { .name = "hdel", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_WRITE | OB_CMD_FAST },
      .handler = store_cmd_hdel, .keys = { 1, 1, 1 },
      .acl = "@write @hash @fast" },
    { .base = { .name = "hexists", .arity_min = 3, .arity_max = 3,
                .flags = STORE_HASH_RF },
      .handler = store_cmd_hexists, .keys = { 1, 1, 1 },
      .acl = "@read @hash @fast" },
    { .base = { .name = "hlen", .arity_min = 2, .arity_max = 2,
                .flags = STORE_HASH_RF },
      .handler = store_cmd_hlen, .keys = { 1, 1, 1 },
      .acl = "@read @hash @fast" },
    { .base = { .name = "hstrlen", .arity_min = 3, .arity_max = 3,
                .flags = STORE_HASH_RF },
      .handler = store_cmd_hstrlen, .keys = { 1, 1, 1 },
      .acl = "@read @hash @fast" },
    { .base = { .name = "hkeys", .arity_min = 2, .arity_max = 2,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_hkeys, .keys = { 1, 1, 1 },
      .acl = "@read @hash @slow" },
    { .base = { .name = "hvals", .arity_min = 2, .arity_max = 2,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_hvals, .keys = { 1, 1, 1 },
      .acl = "@read @hash @slow" },
    { .base = { .name = "hgetall", .arity_min = 2, .arity_max = 2,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_hgetall, .keys = { 1, 1, 1 },
      .acl = "@read @hash @slow" },
    { .base = { .name = "hincrby", .arity_min = 4, .arity_max = 4,
                .flags = STORE_HASH_W },
      .handler = store_cmd_hincrby, .keys = { 1, 1, 1 },
      .acl = "@write @hash @fast" },
    { .base = { .name = "hincrbyfloat", .arity_min = 4, .arity_max = 4,
                .flags = STORE_HASH_W },
      .handler = store_cmd_hincrbyfloat, .keys = { 1, 1, 1 },
      .acl = "@write @hash @fast" },
    { .base = { .name = "hrandfield", .arity_min = 2, .arity_max = -1,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_hrandfield, .keys = { 1, 1, 1 },
      .acl = "@read @hash @slow" },
    { .base = { .name = "hscan", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_hscan, .keys = { 1, 1, 1 },
      .acl = "@read @hash @slow" },
    { .base = { .name = NULL } }
};
