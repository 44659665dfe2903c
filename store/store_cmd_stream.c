/*
 * store_cmd_stream.c: the stream commands but consumer-group management
 * (store_cmd_xgroup.c): XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM,
 * XREAD, XREADGROUP, XSETID, with Redis 7.0.15's replies and errors
 * (t_stream.c); XINFO is in store_cmd_xinfo.c.
 *
 * Replies carry their lengths up front (the reply writer has no deferred
 * lengths), so a range is walked twice: once to count what will be sent
 * (bounded by COUNT), once to send it.  Both walks start with a
 * bisection, so the cost is that of the entries sent.
 *
 * Blocking (XREAD/XREADGROUP BLOCK) goes through store_block: the command
 * is run again when a key is ready.  "$" means "the top ID when the
 * command was first run", so the "$" arguments are rewritten to that ID
 * for store_block to save (Redis keeps the IDs in the blocked client; the
 * re-run reads them from its saved arguments instead), then put back.
 * A re-run answers as Redis 7.0.15 answers a blocked client: NOGROUP
 * when its group was destroyed, UNBLOCKED when its key went away (that
 * one needs the deletion to signal the key ready), and stays blocked
 * when the key now holds another type.
 */
#include "store_cmd_stream.h"
#include "store_srv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SX_BLOCKED_DEFAULT_COUNT  1000   /* XREAD_BLOCKED_DEFAULT_COUNT */
#define SX_TRIM_LIMIT_DEFAULT     10000  /* 100 * stream-node-max-entries */

static const store_sid_t  sx_min = { 0, 0 };
static const store_sid_t  sx_max = { UINT64_MAX, UINT64_MAX };


/* ---- shared helpers ----------------------------------------------------- */

/* Redis's string2ull: string2ll's strict form, or else strtoull's (which
 * takes leading spaces, a sign and leading zeros). */
static int
sx_string2ull(const char *s, uint64_t *v)
{
    long long           ll;
    char               *end = NULL;
    unsigned long long  u;

    if (store_str_is_ll(s, strlen(s), &ll)) {
        if (ll < 0) {
            return 0;
        }
        *v = (uint64_t) ll;
        return 1;
    }
    errno = 0;
    u = strtoull(s, &end, 10);
    if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *end == '\0')) {
        return 0;
    }
    *v = u;
    return 1;
}


int
store_sx_parse_id(const ob_str_t *a, uint64_t missing_seq, int strict,
                  store_sid_t *id, int *seq_given)
{
    char      buf[128], *dot;
    uint64_t  ms, seq;

    if (seq_given != NULL) {
        *seq_given = 1;
    }
    if (a->len > sizeof(buf) - 1) {
        goto invalid;
    }
    memcpy(buf, a->data, a->len);
    buf[a->len] = '\0';
    if (strict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0') {
        goto invalid;
    }
    if (buf[0] == '-' && buf[1] == '\0') {
        *id = sx_min;
        return OB_OK;
    }
    if (buf[0] == '+' && buf[1] == '\0') {
        *id = sx_max;
        return OB_OK;
    }
    dot = strchr(buf, '-');
    if (dot != NULL) {
        *dot = '\0';
    }
    if (!sx_string2ull(buf, &ms)) {
        goto invalid;
    }
    if (dot != NULL) {
        if (seq_given != NULL && dot[1] == '*' && dot[2] == '\0') {
            seq = 0;
            *seq_given = 0;
        } else if (!sx_string2ull(dot + 1, &seq)) {
            goto invalid;
        }
    } else {
        seq = missing_seq;
    }
    id->ms = ms;
    id->seq = seq;
    return OB_OK;

invalid:
    return OB_ERR;
}


int
store_sx_parse_id_or_reply(store_client_t *c, const ob_str_t *a,
                           uint64_t missing_seq, int strict, store_sid_t *id,
                           int *seq_given)
{
    if (store_sx_parse_id(a, missing_seq, strict, id, seq_given) != OB_OK) {
        store_add_err(c, STORE_ERR_STREAM_ID);
        return OB_ERR;
    }
    return OB_OK;
}


int
store_sx_parse_bound_or_reply(store_client_t *c, const ob_str_t *a, int end,
                              store_sid_t *id)
{
    ob_str_t  t;

    if (a->len > 1 && a->data[0] == '(') {
        t.data = a->data + 1;
        t.len = a->len - 1;
        if (store_sx_parse_id_or_reply(c, &t, end ? UINT64_MAX : 0, 1, id,
                                       NULL) != OB_OK)
        {
            return OB_ERR;
        }
        if (!end && store_sid_incr(id) != OB_OK) {
            store_add_err(c, "ERR invalid start ID for the interval");
            return OB_ERR;
        }
        if (end && store_sid_decr(id) != OB_OK) {
            store_add_err(c, "ERR invalid end ID for the interval");
            return OB_ERR;
        }
        return OB_OK;
    }
    return store_sx_parse_id_or_reply(c, a, end ? UINT64_MAX : 0, 0, id, NULL);
}


void
store_sx_reply_id(store_client_t *c, const store_sid_t *id)
{
    char    buf[STORE_SID_MAX];
    size_t  n = store_sid_format(id, buf);

    store_reply_bulk(&c->r, buf, n);
}


void
store_sx_reply_entry(store_client_t *c, const store_sentry_t *e)
{
    store_spairs_t  it;
    const uint8_t  *f, *v;
    size_t          i, flen, vlen;

    store_reply_array(&c->r, 2);
    store_sx_reply_id(c, &e->id);
    store_reply_array(&c->r, e->nfields * 2);
    store_sentry_pairs(e, &it);
    for (i = 0; i < e->nfields; i++) {
        store_spairs_next(&it, &f, &flen, &v, &vlen);
        store_reply_bulk(&c->r, f, flen);
        store_reply_bulk(&c->r, v, vlen);
    }
}


store_stream_t *
store_sx_lookup(store_client_t *c, const ob_str_t *key, int for_write,
                int *wrong)
{
    store_obj_t  *o = store_lookup_typed(c, key, STORE_OBJ_STREAM, for_write,
                                         wrong);

    return o != NULL ? o->v.ptr : NULL;
}


store_sconsumer_t *
store_sx_consumer(store_client_t *c, store_stream_t *s, store_sgroup_t *g,
                  const ob_str_t *name, int refresh, int *created)
{
    store_sconsumer_t  *sc;

    if (created != NULL) {
        *created = 0;
    }
    sc = store_sgroup_consumer_find(g, name->data, name->len);
    if (sc != NULL) {
        if (refresh) {
            sc->seen_time = store_now_ms(c);
        }
        return sc;
    }
    sc = store_sgroup_consumer_create(s, g, name->data, name->len,
                                      store_now_ms(c));
    if (sc != NULL && created != NULL) {
        *created = 1;
    }
    return sc;
}


/* A new empty stream bound to key.  NULL: OOM replied. */
static store_stream_t *
sx_create(store_client_t *c, store_obj_t **obj)
{
    store_stream_t  *s = store_stream_new(store_arena(c), store_owner(c));
    store_obj_t     *o;

    if (s == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return NULL;
    }
    o = store_obj_payload_new(store_arena(c), store_owner(c),
                              STORE_OBJ_STREAM, STORE_ENC_STREAM, s);
    if (o == NULL) {
        store_stream_destroy(s);
        store_add_err(c, STORE_ERR_OOM);
        return NULL;
    }
    *obj = o;
    return s;
}


/* Binds a stream object made by sx_create; OB_ERR: OOM replied, freed. */
static int
sx_bind(store_client_t *c, const ob_str_t *key, store_obj_t *o)
{
    if (store_db_set(c->db, key->data, key->len, o, 0, store_now_ms(c))
        != OB_OK)
    {
        store_stream_destroy(o->v.ptr);
        o->v.ptr = NULL;
        store_obj_free(store_arena(c), store_owner(c), o);
        store_add_err(c, STORE_ERR_OOM);
        return OB_ERR;
    }
    return OB_OK;
}


/* Counts entries in [start, end], at most count (0: all). */
static size_t
sx_count_range(const store_stream_t *s, const store_sid_t *start,
               const store_sid_t *end, size_t count, int rev)
{
    store_stream_iter_t  it;
    store_sentry_t       e;
    size_t               n = 0;

    store_stream_iter_start(s, &it, start, end, rev);
    while ((count == 0 || n < count) && store_stream_iter_next(&it, &e)) {
        n++;
    }
    return n;
}


size_t
store_sx_reply_range(store_client_t *c, const store_stream_t *s,
                     const store_sid_t *start, const store_sid_t *end,
                     size_t count, int rev)
{
    store_stream_iter_t  it;
    store_sentry_t       e;
    size_t               n = sx_count_range(s, start, end, count, rev), i;

    store_reply_array(&c->r, n);
    store_stream_iter_start(s, &it, start, end, rev);
    for (i = 0; i < n && store_stream_iter_next(&it, &e); i++) {
        store_sx_reply_entry(c, &e);
    }
    return n;
}


/* ---- XADD, XTRIM -------------------------------------------------------- */

typedef struct sx_trim_args_s {
    int          strategy;      /* 0 or STORE_STREAM_TRIM_* */
    int          approx;
    long long    maxlen;
    store_sid_t  minid;
    long long    limit;
    int          nomkstream;
    int          id_given;
    int          seq_given;
    store_sid_t  id;
    size_t       approx_idx;    /* with approx: the "~" argument, and */
    size_t       trim_idx;      /*   the MAXLEN / MINID value after it */
} sx_trim_args_t;


/*
 * XADD's and XTRIM's options (streamParseAddOrTrimArgsOrReply): returns
 * the index of XADD's ID argument (XTRIM: argc), or -1 when it replied an
 * error.
 */
static int
sx_parse_trim_args(store_client_t *c, sx_trim_args_t *ta, int xadd)
{
    size_t     i, more;
    int        limit_given = 0;
    ob_str_t  *a;

    memset(ta, 0, sizeof(*ta));
    ta->maxlen = -1;
    ta->seq_given = 1;
    for (i = 2; i < c->argc; i++) {
        a = &c->argv[i];
        more = c->argc - 1 - i;
        if (xadd && a->len == 1 && a->data[0] == '*') {
            break;
        } else if ((store_arg_is(a, "maxlen") || store_arg_is(a, "minid"))
                   && more > 0)
        {
            int  maxlen = store_arg_is(a, "maxlen");

            if (ta->strategy != 0) {
                store_add_err(c, "ERR syntax error, MAXLEN and MINID options "
                                 "at the same time are not compatible");
                return -1;
            }
            ta->approx = 0;
            if (more >= 2 && c->argv[i + 1].len == 1
                && (c->argv[i + 1].data[0] == '~'
                    || c->argv[i + 1].data[0] == '='))
            {
                ta->approx = c->argv[i + 1].data[0] == '~';
                i++;
            }
            ta->approx_idx = i;
            ta->trim_idx = i + 1;
            if (maxlen) {
                if (store_get_ll_or_reply(c, &c->argv[i + 1], &ta->maxlen,
                                          NULL) != OB_OK)
                {
                    return -1;
                }
                if (ta->maxlen < 0) {
                    store_add_err(c, "ERR The MAXLEN argument must be >= 0.");
                    return -1;
                }
                ta->strategy = STORE_STREAM_TRIM_MAXLEN;
            } else {
                if (store_sx_parse_id_or_reply(c, &c->argv[i + 1], 0, 1,
                                               &ta->minid, NULL) != OB_OK)
                {
                    return -1;
                }
                ta->strategy = STORE_STREAM_TRIM_MINID;
            }
            i++;
        } else if (store_arg_is(a, "limit") && more > 0) {
            if (store_get_ll_or_reply(c, &c->argv[i + 1], &ta->limit, NULL)
                != OB_OK)
            {
                return -1;
            }
            if (ta->limit < 0) {
                store_add_err(c, "ERR The LIMIT argument must be >= 0.");
                return -1;
            }
            limit_given = 1;
            i++;
        } else if (xadd && store_arg_is(a, "nomkstream")) {
            ta->nomkstream = 1;
        } else if (xadd) {
            if (store_sx_parse_id_or_reply(c, a, 0, 1, &ta->id,
                                           &ta->seq_given) != OB_OK)
            {
                return -1;
            }
            ta->id_given = 1;
            break;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return -1;
        }
    }

    if (ta->limit && ta->strategy == 0) {
        store_add_err(c, "ERR syntax error, LIMIT cannot be used without "
                         "specifying a trimming strategy");
        return -1;
    }
    if (!xadd && ta->strategy == 0) {
        store_add_err(c, "ERR syntax error, XTRIM must be called with a "
                         "trimming strategy");
        return -1;
    }
    if (limit_given) {
        if (!ta->approx) {
            store_add_err(c, "ERR syntax error, LIMIT cannot be used without "
                             "the special ~ option");
            return -1;
        }
    } else {
        ta->limit = ta->approx ? SX_TRIM_LIMIT_DEFAULT : 0;
    }
    return (int) i;
}


static uint64_t
sx_trim(store_stream_t *s, const sx_trim_args_t *ta)
{
    if (ta->strategy == 0) {
        return 0;
    }
    return store_stream_trim(s, ta->strategy, (uint64_t) ta->maxlen,
                             &ta->minid, ta->approx, ta->limit);
}


/*
 * What an XADD or XTRIM becomes in the AOF and on the replicas when its
 * effect does not follow from its arguments (Redis's
 * streamRewriteApproxSpecifier and streamRewriteTrimArgument, and XADD's
 * ID rewrite): an approximate trim ("~", which trims whole nodes only)
 * is written exact, "=" with the stream's length (MAXLEN) or its first
 * ID (MINID) after the trim; a generated ID ("*", "ms-*") is written as
 * the ID generated (idpos, 0 for none).  The other arguments, LIMIT
 * included, stay as received, as Redis 7.0 writes them.
 */
static void
sx_propagate_rewrite(store_client_t *c, const sx_trim_args_t *ta,
    const store_stream_t *s, size_t idpos, const store_sid_t *id)
{
    ob_str_t   stack[16], *argv = stack;
    char       idbuf[STORE_SID_MAX], trimbuf[STORE_SID_MAX];
    size_t     j;

    if (!ta->approx && idpos == 0) {
        return;                         /* goes as received */
    }
    if (c->argc > 16) {
        argv = malloc(c->argc * sizeof(*argv));
        if (argv == NULL) {
            return;
        }
    }
    for (j = 0; j < c->argc; j++) {
        argv[j] = c->argv[j];
    }
    if (ta->approx) {
        argv[ta->approx_idx].data = (const uint8_t *) "=";
        argv[ta->approx_idx].len = 1;
        if (ta->strategy == STORE_STREAM_TRIM_MAXLEN) {
            argv[ta->trim_idx].len = (size_t) snprintf(trimbuf,
                sizeof(trimbuf), "%llu", (unsigned long long) s->length);
        } else {
            argv[ta->trim_idx].len = store_sid_format(&s->first_id, trimbuf);
        }
        argv[ta->trim_idx].data = (const uint8_t *) trimbuf;
    }
    if (idpos != 0) {
        argv[idpos].len = store_sid_format(id, idbuf);
        argv[idpos].data = (const uint8_t *) idbuf;
    }
    store_propagate_cmd(c, argv, c->argc);
    if (argv != stack) {
        free(argv);
    }
}


static void
store_cmd_xadd(store_client_t *c)
{
    sx_trim_args_t   ta;
    int              idpos, wrong, created = 0;
    size_t           fpos;
    store_stream_t  *s;
    store_obj_t     *o = NULL;
    store_sid_t      id;
    const ob_str_t  *key = &c->argv[1];
    uint64_t         ms;

    idpos = sx_parse_trim_args(c, &ta, 1);
    if (idpos < 0) {
        return;
    }
    fpos = (size_t) idpos + 1;
    if (c->argc < fpos + 2 || (c->argc - fpos) % 2 == 1) {
        store_add_err_arity(c, "xadd");
        return;
    }
    if (ta.id_given && ta.seq_given && ta.id.ms == 0 && ta.id.seq == 0) {
        store_add_err(c, "ERR The ID specified in XADD must be greater than "
                         "0-0");
        return;
    }

    s = store_sx_lookup(c, key, 1, &wrong);
    if (wrong) {
        return;
    }
    if (s == NULL) {
        if (ta.nomkstream) {
            store_reply_null(&c->r);
            return;
        }
        s = sx_create(c, &o);
        if (s == NULL) {
            return;
        }
        created = 1;
    }

    if (s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
        store_add_err(c, "ERR The stream has exhausted the last possible ID, "
                         "unable to add more items");
        goto fail;
    }

    /* The new ID (streamAppendItem's rules). */
    if (ta.id_given) {
        id = ta.id;
        if (!ta.seq_given) {
            if (s->last_id.ms == ta.id.ms) {
                if (s->last_id.seq == UINT64_MAX) {
                    goto smaller;
                }
                id = s->last_id;
                id.seq++;
            }
        }
    } else {
        ms = (uint64_t) store_now_ms(c);
        if (ms > s->last_id.ms) {
            id.ms = ms;
            id.seq = 0;
        } else {
            id = s->last_id;
            (void) store_sid_incr(&id);
        }
    }
    if (store_sid_cmp(&id, &s->last_id) <= 0) {
        goto smaller;
    }

    if (store_stream_append(s, &id, &c->argv[fpos], c->argc - fpos)
        != OB_OK)
    {
        store_add_err(c, STORE_ERR_OOM);
        goto fail;
    }
    if (created && sx_bind(c, key, o) != OB_OK) {
        return;
    }

    store_sx_reply_id(c, &id);
    store_key_changed(c, key, STORE_NOTIFY_STREAM, "xadd");
    if (sx_trim(s, &ta) > 0) {
        store_notify(c->st, c->dbid, key, STORE_NOTIFY_STREAM, "xtrim");
    }
    sx_propagate_rewrite(c, &ta, s,
                         ta.id_given && ta.seq_given ? 0 : (size_t) idpos,
                         &id);
    store_key_ready(c, key);
    return;

smaller:
    store_add_err(c, "ERR The ID specified in XADD is equal or smaller than "
                     "the target stream top item");
fail:
    if (created) {
        store_stream_destroy(s);
        o->v.ptr = NULL;
        store_obj_free(store_arena(c), store_owner(c), o);
    }
}


static void
store_cmd_xtrim(store_client_t *c)
{
    sx_trim_args_t   ta;
    store_stream_t  *s;
    int              wrong;
    uint64_t         deleted;

    if (sx_parse_trim_args(c, &ta, 0) < 0) {
        return;
    }
    s = store_sx_lookup(c, &c->argv[1], 1, &wrong);
    if (wrong) {
        return;
    }
    if (s == NULL) {
        store_reply_int(&c->r, 0);
        return;
    }
    deleted = sx_trim(s, &ta);
    if (deleted > 0) {
        store_key_changed(c, &c->argv[1], STORE_NOTIFY_STREAM, "xtrim");
        /* Redis counts each entry trimmed (server.dirty += deleted). */
        store_dirty_add(c, (long long) deleted - 1);
        sx_propagate_rewrite(c, &ta, s, 0, NULL);
    }
    store_reply_int(&c->r, (long long) deleted);
}


/* ---- XLEN, XRANGE, XREVRANGE, XDEL -------------------------------------- */

static void
store_cmd_xlen(store_client_t *c)
{
    int              wrong;
    store_stream_t  *s = store_sx_lookup(c, &c->argv[1], 0, &wrong);

    if (wrong) {
        return;
    }
    store_reply_int(&c->r, s != NULL ? (long long) s->length : 0);
}


static void
sx_range_generic(store_client_t *c, int rev)
{
    store_sid_t      start, end;
    long long        count = -1;
    size_t           j;
    int              wrong;
    store_stream_t  *s;

    if (store_sx_parse_bound_or_reply(c, &c->argv[rev ? 3 : 2], 0, &start)
        != OB_OK
        || store_sx_parse_bound_or_reply(c, &c->argv[rev ? 2 : 3], 1, &end)
           != OB_OK)
    {
        return;
    }
    for (j = 4; j < c->argc; j++) {
        if (store_arg_is(&c->argv[j], "count") && j + 1 < c->argc) {
            if (store_get_ll_or_reply(c, &c->argv[j + 1], &count, NULL)
                != OB_OK)
            {
                return;
            }
            if (count < 0) {
                count = 0;
            }
            j++;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    s = store_sx_lookup(c, &c->argv[1], 0, &wrong);
    if (wrong) {
        return;
    }
    if (s == NULL) {
        store_reply_array(&c->r, 0);
        return;
    }
    if (count == 0) {
        store_reply_null_array(&c->r);
        return;
    }
    (void) store_sx_reply_range(c, s, &start, &end,
                                count < 0 ? 0 : (size_t) count, rev);
}


static void
store_cmd_xrange(store_client_t *c)
{
    sx_range_generic(c, 0);
}


static void
store_cmd_xrevrange(store_client_t *c)
{
    sx_range_generic(c, 1);
}


static void
store_cmd_xdel(store_client_t *c)
{
    store_stream_t  *s;
    store_sid_t      sid, *ids;
    size_t           j, n = c->argc - 2;
    long long        deleted = 0;
    int              wrong;

    s = store_sx_lookup(c, &c->argv[1], 1, &wrong);
    if (wrong) {
        return;
    }
    if (s == NULL) {
        store_reply_int(&c->r, 0);
        return;
    }
    /* All the IDs first: a bad one deletes nothing. */
    ids = n > 1 ? malloc(n * sizeof(*ids)) : &sid;
    if (ids == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    for (j = 0; j < n; j++) {
        if (store_sx_parse_id_or_reply(c, &c->argv[j + 2], 0, 1, &ids[j],
                                       NULL) != OB_OK)
        {
            goto done;
        }
    }
    for (j = 0; j < n; j++) {
        deleted += store_stream_delete(s, &ids[j]);
    }
    if (deleted > 0) {
        store_key_changed(c, &c->argv[1], STORE_NOTIFY_STREAM, "xdel");
        /* Redis counts each entry deleted (server.dirty += deleted). */
        store_dirty_add(c, (long long) deleted - 1);
    }
    store_reply_int(&c->r, deleted);
done:
    if (ids != &sid) {
        free(ids);
    }
}


/* ---- XREAD, XREADGROUP -------------------------------------------------- */

/* Where an XREAD(GROUP) stands for one stream. */
typedef struct sx_read_s {
    store_stream_t  *s;          /* NULL: missing */
    store_sgroup_t  *g;
    store_sid_t      gt;         /* serve IDs greater than this */
    int              is_dollar;  /* the argument was "$" */
    int              serve;
    int              history;
} sx_read_t;


/* The consumer's own pending entries from start on (XREADGROUP with an
 * ID): deleted entries come as [id, nil]. */
static void
sx_reply_history(store_client_t *c, store_stream_t *s, store_sconsumer_t *sc,
                 const store_sid_t *start, size_t count)
{
    store_smap_iter_t  it;
    store_sid_t        id;
    void              *val;
    store_snack_t     *n;
    store_sentry_t     e;
    size_t             total = 0, i;

    store_smap_seek(sc->pel, start, &it);
    while ((count == 0 || total < count) && store_smap_next(&it, &id, &val)) {
        total++;
    }
    store_reply_array(&c->r, total);
    store_smap_seek(sc->pel, start, &it);
    for (i = 0; i < total && store_smap_next(&it, &id, &val); i++) {
        n = val;
        if (store_stream_lookup(s, &id, &e)) {
            store_sx_reply_entry(c, &e);
            n->delivery_time = store_now_ms(c);
            n->delivery_count++;
        } else {
            store_reply_array(&c->r, 2);
            store_sx_reply_id(c, &id);
            store_reply_null_array(&c->r);
        }
    }
}


/* New entries for a group (">"): they move the group's last ID and its
 * read counter, and enter the PEL unless noack.  Each entry that enters
 * the PEL is written as an XCLAIM of it (which also carries the group's
 * last ID); with noack the last ID is written once, as XGROUP SETID
 * (Redis's streamReplyWithRange). */
static void
sx_reply_group_new(store_client_t *c, store_stream_t *s, store_sgroup_t *g,
                   store_sconsumer_t *sc, const store_sid_t *gt, size_t count,
                   int noack, const ob_str_t *key, const ob_str_t *group)
{
    store_stream_iter_t  it;
    store_sentry_t       e;
    store_sid_t          start = *gt;
    store_snack_t       *n;
    size_t               total, i;
    int64_t              now = store_now_ms(c);
    int                  moved = 0;

    (void) store_sid_incr(&start);
    total = sx_count_range(s, &start, &sx_max, count, 0);
    store_reply_array(&c->r, total);
    store_stream_iter_start(s, &it, &start, &sx_max, 0);
    for (i = 0; i < total && store_stream_iter_next(&it, &e); i++) {
        if (store_sid_cmp(&e.id, &g->last_id) > 0) {
            if (g->entries_read != STORE_STREAM_ENTRIES_INVALID
                && !store_stream_range_has_tombstones(s, &e.id, NULL))
            {
                g->entries_read++;
            } else if (s->entries_added > 0) {
                g->entries_read = store_stream_estimate_read(s, &e.id);
            }
            g->last_id = e.id;
            moved = 1;
        }
        store_sx_reply_entry(c, &e);
        if (noack || sc == NULL) {
            continue;
        }
        n = store_sgroup_pel_find(g, &e.id);
        if (n != NULL) {
            /* Delivered before (XGROUP SETID moved the group back): the
             * entry changes hands and starts over. */
            if (store_sgroup_pel_move(s, g, &e.id, n, sc) == OB_OK) {
                n->delivery_time = now;
                n->delivery_count = 1;
            }
        } else {
            /* Out of memory, the entry is delivered but not tracked: the
             * reply already promised it. */
            n = store_sgroup_pel_add(s, g, sc, &e.id, now);
        }
        if (n != NULL) {
            store_sx_propagate_xclaim(c, key, group, g, NULL, &e.id, n);
        }
    }
    if (noack && moved) {
        store_sx_propagate_setid(c, key, group, g);
    }
}


static void
sx_read_generic(store_client_t *c, int xreadgroup)
{
    long long     count = 0;
    int64_t       deadline = 0;
    int           block = 0, noack = 0, created;
    int           retry = (c->flags & STORE_CLIENT_RETRY) != 0;
    store_obj_t  *o;
    size_t        i, streams_arg = 0, nstreams = 0, served = 0;
    ob_str_t     *group = NULL, *consumer = NULL, *a;
    sx_read_t    *rd = NULL, rd1;
    store_sid_t   last;

    for (i = 1; i < c->argc; i++) {
        size_t  more = c->argc - i - 1;

        a = &c->argv[i];
        if (store_arg_is(a, "block") && more > 0) {
            i++;
            if (store_get_timeout_ms_or_reply(c, &c->argv[i], &deadline)
                != OB_OK)
            {
                return;
            }
            block = 1;
        } else if (store_arg_is(a, "count") && more > 0) {
            i++;
            if (store_get_ll_or_reply(c, &c->argv[i], &count, NULL) != OB_OK) {
                return;
            }
            if (count < 0) {
                count = 0;
            }
        } else if (store_arg_is(a, "streams") && more > 0) {
            streams_arg = i + 1;
            nstreams = c->argc - streams_arg;
            if (nstreams % 2 != 0) {
                store_add_err(c, "ERR Unbalanced XREAD list of streams: for "
                                 "each stream key an ID or '$' must be "
                                 "specified.");
                return;
            }
            nstreams /= 2;
            break;
        } else if (store_arg_is(a, "group") && more >= 2) {
            if (!xreadgroup) {
                store_add_err(c, "ERR The GROUP option is only supported by "
                                 "XREADGROUP. You called XREAD instead.");
                return;
            }
            group = &c->argv[i + 1];
            consumer = &c->argv[i + 2];
            i += 2;
        } else if (store_arg_is(a, "noack")) {
            if (!xreadgroup) {
                store_add_err(c, "ERR The NOACK option is only supported by "
                                 "XREADGROUP. You called XREAD instead.");
                return;
            }
            noack = 1;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    if (streams_arg == 0) {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    if (xreadgroup && group == NULL) {
        store_add_err(c, "ERR Missing GROUP option for XREADGROUP");
        return;
    }

    rd = nstreams > 1 ? calloc(nstreams, sizeof(*rd)) : &rd1;
    if (rd == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    memset(rd, 0, sizeof(*rd) * (nstreams > 1 ? 0 : 1));

    /* Resolve keys, groups and IDs (all errors come before any reply). */
    for (i = 0; i < nstreams; i++) {
        const ob_str_t  *key = &c->argv[streams_arg + i];
        const ob_str_t  *ida = &c->argv[streams_arg + nstreams + i];

        o = store_lookup_read(c, key);
        if (o != NULL && o->type != STORE_OBJ_STREAM) {
            if (retry) {
                /* Another type's readiness (a list on that key now) does
                 * not serve a stream reader: it stays blocked. */
                store_block(c, &c->argv[streams_arg], nstreams, deadline,
                            NULL);
            } else {
                (void) store_check_type_or_reply(c, o, STORE_OBJ_STREAM);
            }
            goto done;
        }
        rd[i].s = o != NULL ? o->v.ptr : NULL;
        if (group != NULL) {
            if (retry && rd[i].s == NULL) {
                store_add_err(c, "UNBLOCKED the stream key no longer exists");
                goto done;
            }
            if (rd[i].s != NULL
                && (rd[i].g = store_stream_group_find(rd[i].s, group->data,
                                                      group->len)) == NULL
                && retry)
            {
                store_add_err(c, "NOGROUP the consumer group this client was "
                                 "blocked on no longer exists");
                goto done;
            }
            if (rd[i].s == NULL || rd[i].g == NULL) {
                store_add_errf(c, "NOGROUP No such key '%.*s' or consumer "
                                  "group '%.*s' in XREADGROUP with GROUP "
                                  "option", (int) key->len, key->data,
                               (int) group->len, group->data);
                goto done;
            }
        }
        if (ida->len == 1 && ida->data[0] == '$') {
            if (xreadgroup) {
                store_add_err(c, "ERR The $ ID is meaningless in the context "
                                 "of XREADGROUP: you want to read the history "
                                 "of this consumer by specifying a proper ID, "
                                 "or use the > ID to get new messages. The $ "
                                 "ID would just return an empty result set.");
                goto done;
            }
            rd[i].gt = rd[i].s != NULL ? rd[i].s->last_id : sx_min;
            rd[i].is_dollar = 1;
            continue;
        }
        if (ida->len == 1 && ida->data[0] == '>') {
            if (!xreadgroup) {
                store_add_err(c, "ERR The > ID can be specified only when "
                                 "calling XREADGROUP using the GROUP <group> "
                                 "<consumer> option.");
                goto done;
            }
            rd[i].gt = sx_max;
            continue;
        }
        if (store_sx_parse_id_or_reply(c, ida, 0, 1, &rd[i].gt, NULL)
            != OB_OK)
        {
            goto done;
        }
    }

    /* Which streams can be served now. */
    for (i = 0; i < nstreams; i++) {
        store_stream_t  *s = rd[i].s;

        if (s == NULL) {
            continue;
        }
        if (rd[i].g != NULL) {
            if (store_sid_cmp(&rd[i].gt, &sx_max) != 0) {
                rd[i].serve = 1;
                rd[i].history = 1;
            } else if (s->length > 0 && store_stream_edge(s, 1, &last)
                       && store_sid_cmp(&last, &rd[i].g->last_id) > 0)
            {
                rd[i].serve = 1;
                rd[i].gt = rd[i].g->last_id;
            }
        } else if (s->length > 0 && store_stream_edge(s, 1, &last)
                   && store_sid_cmp(&last, &rd[i].gt) > 0)
        {
            rd[i].serve = 1;
        }
        served += rd[i].serve;
    }

    if (served > 0) {
        if (count == 0 && (c->flags & STORE_CLIENT_RETRY)) {
            count = SX_BLOCKED_DEFAULT_COUNT;
        }
        if (c->r.proto == 2) {
            store_reply_array(&c->r, served);
        } else {
            store_reply_map(&c->r, served);
        }
        for (i = 0; i < nstreams; i++) {
            store_sconsumer_t  *sc = NULL;
            store_sid_t         start;

            if (!rd[i].serve) {
                continue;
            }
            if (c->r.proto == 2) {
                store_reply_array(&c->r, 2);
            }
            store_reply_bulk(&c->r, c->argv[streams_arg + i].data,
                             c->argv[streams_arg + i].len);
            if (rd[i].g != NULL) {
                sc = store_sx_consumer(c, rd[i].s, rd[i].g, consumer, 1,
                                       &created);
                if (created) {
                    /* Redis 7.0 counts a consumer's creation apart from
                     * the read (streamCreateConsumer's dirty++), except
                     * when it serves a blocked reader (SCC_NO_DIRTIFY). */
                    if (!(c->flags & STORE_CLIENT_RETRY)) {
                        c->st->dirty++;
                    }
                    store_notify(c->st, c->dbid, &c->argv[streams_arg + i],
                                 STORE_NOTIFY_STREAM,
                                 "xgroup-createconsumer");
                    /* with NOACK no XCLAIM creates it on the other side */
                    if (noack) {
                        store_sx_propagate_createconsumer(c,
                            &c->argv[streams_arg + i], group, consumer);
                    }
                }
            }
            if (rd[i].g != NULL) {
                c->st->dirty++;         /* Redis counts a group read */
            }
            if (rd[i].history) {
                start = rd[i].gt;
                (void) store_sid_incr(&start);
                if (sc != NULL) {
                    sx_reply_history(c, rd[i].s, sc, &start, (size_t) count);
                } else {
                    store_reply_array(&c->r, 0);
                }
            } else if (rd[i].g != NULL) {
                sx_reply_group_new(c, rd[i].s, rd[i].g, sc, &rd[i].gt,
                                   (size_t) count, noack,
                                   &c->argv[streams_arg + i], group);
            } else {
                start = rd[i].gt;
                (void) store_sid_incr(&start);
                (void) store_sx_reply_range(c, rd[i].s, &start, &sx_max,
                                            (size_t) count, 0);
            }
        }
        goto done;
    }

    if (block && !(c->flags & STORE_CLIENT_RETRY)) {
        /* "$" becomes the top ID of now, so that the re-run after a key is
         * ready serves what came after it (see the top of the file). */
        char  (*bufs)[STORE_SID_MAX] = NULL;

        for (i = 0; i < nstreams; i++) {
            if (rd[i].is_dollar) {
                if (bufs == NULL) {
                    bufs = malloc(nstreams * sizeof(*bufs));
                    if (bufs == NULL) {
                        store_add_err(c, STORE_ERR_OOM);
                        goto done;
                    }
                }
                a = &c->argv[streams_arg + nstreams + i];
                a->len = store_sid_format(&rd[i].gt, bufs[i]);
                a->data = (const uint8_t *) bufs[i];
            }
        }
        store_block(c, &c->argv[streams_arg], nstreams, deadline, NULL);
        /* store_block copied the arguments; what runs after the handler
         * (the slowlog, a MULTI queue) must not see freed bytes. */
        for (i = 0; i < nstreams; i++) {
            if (rd[i].is_dollar) {
                a = &c->argv[streams_arg + nstreams + i];
                a->data = (const uint8_t *) "$";
                a->len = 1;
            }
        }
        free(bufs);
        goto done;
    }
    if (block) {
        store_block(c, &c->argv[streams_arg], nstreams, deadline, NULL);
        goto done;
    }
    store_reply_null_array(&c->r);

done:
    if (xreadgroup) {
        /* XREADGROUP itself is never written, only what it did (the
         * XCLAIMs and SETIDs above: Redis's preventCommandPropagation) */
        store_propagate_nothing(c);
    }
    if (rd != &rd1) {
        free(rd);
    }
}


static void
store_cmd_xread(store_client_t *c)
{
    sx_read_generic(c, 0);
}


static void
store_cmd_xreadgroup(store_client_t *c)
{
    sx_read_generic(c, 1);
}


/* ---- XSETID ------------------------------------------------------------- */

static void
store_cmd_xsetid(store_client_t *c)
{
    store_sid_t      id, max_del = { 0, 0 }, last;
    long long        entries_added = -1;
    size_t           i;
    store_stream_t  *s;
    int              wrong;

    if (store_sx_parse_id_or_reply(c, &c->argv[2], 0, 1, &id, NULL) != OB_OK) {
        return;
    }
    for (i = 3; i < c->argc; i++) {
        size_t  more = c->argc - 1 - i;

        if (store_arg_is(&c->argv[i], "entriesadded") && more > 0) {
            if (store_get_ll_or_reply(c, &c->argv[i + 1], &entries_added,
                                      NULL) != OB_OK)
            {
                return;
            }
            if (entries_added < 0) {
                store_add_err(c, "ERR entries_added must be positive");
                return;
            }
            i++;
        } else if (store_arg_is(&c->argv[i], "maxdeletedid") && more > 0) {
            if (store_sx_parse_id_or_reply(c, &c->argv[i + 1], 0, 1, &max_del,
                                           NULL) != OB_OK)
            {
                return;
            }
            if (store_sid_cmp(&id, &max_del) < 0) {
                store_add_err(c, "ERR The ID specified in XSETID is smaller "
                                 "than the provided max_deleted_entry_id");
                return;
            }
            i++;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    s = store_sx_lookup(c, &c->argv[1], 1, &wrong);
    if (wrong) {
        return;
    }
    if (s == NULL) {
        store_add_err(c, STORE_ERR_NO_KEY);
        return;
    }
    if (s->length > 0) {
        if (store_stream_edge(s, 1, &last) && store_sid_cmp(&id, &last) < 0) {
            store_add_err(c, "ERR The ID specified in XSETID is smaller than "
                             "the target stream top item");
            return;
        }
        if (entries_added != -1 && s->length > (uint64_t) entries_added) {
            store_add_err(c, "ERR The entries_added specified in XSETID is "
                             "smaller than the target stream length");
            return;
        }
    }
    s->last_id = id;
    if (entries_added != -1) {
        s->entries_added = (uint64_t) entries_added;
    }
    if (max_del.ms != 0 || max_del.seq != 0) {
        s->max_deleted = max_del;
    }
    store_add_ok(c);
    /* a notification only: Redis 7.0 does not touch WATCHers here; but
     * it is a change (server.dirty++), written as received */
    store_notify(c->st, c->dbid, &c->argv[1], STORE_NOTIFY_STREAM, "xsetid");
    c->st->dirty++;
}


/* ---- the table ---------------------------------------------------------- */

/* XINFO's and XGROUP's subcommands: the dispatcher finds "xgroup|create"
 * from "xgroup create" and checks its arity; one handler serves each
 * container. */
#define SX_SUB(name_, amin, amax, fl, fn, acl_) \
    { .base = { .name = name_, .arity_min = amin, .arity_max = amax, \
                .flags = fl }, \
      .handler = fn, .keys = { 2, 2, 1 }, .acl = acl_ }

const store_cmd_t store_cmds_stream[] = {
    { .base = { .name = "xadd", .arity_min = 5, .arity_max = -1,
                .flags = OB_CMD_WRITE | STORE_CMD_DENYOOM | OB_CMD_FAST },
      .handler = store_cmd_xadd, .keys = { 1, 1, 1 },
      .acl = "@write @stream @fast" },
    { .base = { .name = "xlen", .arity_min = 2, .arity_max = 2,
                .flags = OB_CMD_READONLY | OB_CMD_FAST },
      .handler = store_cmd_xlen, .keys = { 1, 1, 1 },
      .acl = "@read @stream @fast" },
    { .base = { .name = "xrange", .arity_min = 4, .arity_max = -1,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_xrange, .keys = { 1, 1, 1 },
      .acl = "@read @stream @slow" },
    { .base = { .name = "xrevrange", .arity_min = 4, .arity_max = -1,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_xrevrange, .keys = { 1, 1, 1 },
      .acl = "@read @stream @slow" },
    { .base = { .name = "xdel", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_WRITE | OB_CMD_FAST },
      .handler = store_cmd_xdel, .keys = { 1, 1, 1 },
      .acl = "@write @stream @fast" },
    { .base = { .name = "xtrim", .arity_min = 4, .arity_max = -1,
                .flags = OB_CMD_WRITE },
      .handler = store_cmd_xtrim, .keys = { 1, 1, 1 },
      .acl = "@write @stream @slow" },
    { .base = { .name = "xread", .arity_min = 4, .arity_max = -1,
                .flags = OB_CMD_READONLY | STORE_CMD_BLOCKING
                         | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_xread, .keys = { 0, 0, 0 },
      .acl = "@read @stream @slow @blocking" },
    { .base = { .name = "xreadgroup", .arity_min = 7, .arity_max = -1,
                .flags = OB_CMD_WRITE | STORE_CMD_BLOCKING
                         | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_xreadgroup, .keys = { 0, 0, 0 },
      .acl = "@write @stream @slow @blocking" },
    { .base = { .name = "xsetid", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_WRITE | STORE_CMD_DENYOOM | OB_CMD_FAST },
      .handler = store_cmd_xsetid, .keys = { 1, 1, 1 },
      .acl = "@write @stream @fast" },
    { .base = { .name = "xinfo", .arity_min = 2, .arity_max = -1,
                .flags = STORE_CMD_SUBCMDS }, .acl = "@slow" },
    SX_SUB("xinfo|consumers", 4, 4, OB_CMD_READONLY, store_cmd_xinfo,
           "@read @stream @slow"),
    SX_SUB("xinfo|groups", 3, 3, OB_CMD_READONLY, store_cmd_xinfo,
           "@read @stream @slow"),
    SX_SUB("xinfo|stream", 3, -1, OB_CMD_READONLY, store_cmd_xinfo,
           "@read @stream @slow"),
    { .base = { .name = "xinfo|help", .arity_min = 2, .arity_max = 2,
                .flags = STORE_CMD_LOADING | STORE_CMD_STALE },
      .handler = store_cmd_xinfo, .keys = { 0, 0, 0 },
      .acl = "@stream @slow" },
    { .base = { .name = "xgroup", .arity_min = 2, .arity_max = -1,
                .flags = STORE_CMD_SUBCMDS }, .acl = "@slow" },
    SX_SUB("xgroup|create", 5, -1, OB_CMD_WRITE | STORE_CMD_DENYOOM,
           store_cmd_xgroup, "@write @stream @slow"),
    SX_SUB("xgroup|setid", 5, -1, OB_CMD_WRITE, store_cmd_xgroup,
           "@write @stream @slow"),
    SX_SUB("xgroup|destroy", 4, 4, OB_CMD_WRITE, store_cmd_xgroup,
           "@write @stream @slow"),
    SX_SUB("xgroup|createconsumer", 5, 5, OB_CMD_WRITE | STORE_CMD_DENYOOM,
           store_cmd_xgroup, "@write @stream @slow"),
    SX_SUB("xgroup|delconsumer", 5, 5, OB_CMD_WRITE, store_cmd_xgroup,
           "@write @stream @slow"),
    { .base = { .name = "xgroup|help", .arity_min = 2, .arity_max = 2,
                .flags = STORE_CMD_LOADING | STORE_CMD_STALE },
      .handler = store_cmd_xgroup, .keys = { 0, 0, 0 },
      .acl = "@stream @slow" },
    { .base = { .name = "xack", .arity_min = 4, .arity_max = -1,
                .flags = OB_CMD_WRITE | OB_CMD_FAST },
      .handler = store_cmd_xack, .keys = { 1, 1, 1 },
      .acl = "@write @stream @fast" },
    { .base = { .name = "xpending", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_xpending, .keys = { 1, 1, 1 },
      .acl = "@read @stream @slow" },
    { .base = { .name = "xclaim", .arity_min = 6, .arity_max = -1,
                .flags = OB_CMD_WRITE | OB_CMD_FAST },
      .handler = store_cmd_xclaim, .keys = { 1, 1, 1 },
      .acl = "@write @stream @fast" },
    { .base = { .name = "xautoclaim", .arity_min = 6, .arity_max = -1,
                .flags = OB_CMD_WRITE | OB_CMD_FAST },
      .handler = store_cmd_xautoclaim, .keys = { 1, 1, 1 },
      .acl = "@write @stream @fast" },
    { .base = { .name = NULL } }
};
