/*
 * store_cmd_xgroup.c: consumer-group commands: XGROUP (CREATE, SETID,
 * DESTROY, CREATECONSUMER, DELCONSUMER, HELP), XACK, XPENDING, XCLAIM and
 * XAUTOCLAIM, with Redis 7.0.15's replies and errors.
 *
 * 7.0's rules worth knowing: a pending entry whose stream entry was
 * deleted is dropped from the PEL by XCLAIM and XAUTOCLAIM (XAUTOCLAIM
 * lists those IDs in the third element of its reply); a consumer is
 * created by XCLAIM/XAUTOCLAIM only when it gets something.
 */
#include "store_cmd_stream.h"
#include "store_srv.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SX_AUTOCLAIM_ATTEMPTS  10     /* PEL entries looked at per COUNT */


static const store_sid_t  xg_min = { 0, 0 };


/* ---- propagation -------------------------------------------------------- */

/*
 * The group's state as it now is, in commands that are idempotent on the
 * other side (see store_cmd_stream.h: XREADGROUP propagates with them too).
 */

#define XG_LIT(s)  { sizeof(s) - 1, (const uint8_t *) (s) }


/*
 * XCLAIM <key> <group> <consumer> 0 <id> TIME <delivery ms> RETRYCOUNT
 * <count> FORCE JUSTID LASTID <group's last id>: the pending entry n of
 * `id` as it now is (its owner, time and count), and the group's last
 * ID.  idarg: the ID as the client wrote it (XCLAIM), else NULL (the ID
 * formatted).
 */
void
store_sx_propagate_xclaim(store_client_t *c, const ob_str_t *key,
    const ob_str_t *group, const store_sgroup_t *g, const ob_str_t *idarg,
    const store_sid_t *id, const store_snack_t *n)
{
    ob_str_t  argv[14] = {
        XG_LIT("XCLAIM"), *key, *group, { 0, NULL }, XG_LIT("0"),
        { 0, NULL }, XG_LIT("TIME"), { 0, NULL }, XG_LIT("RETRYCOUNT"),
        { 0, NULL }, XG_LIT("FORCE"), XG_LIT("JUSTID"), XG_LIT("LASTID"),
        { 0, NULL } };
    char      idbuf[STORE_SID_MAX], lastbuf[STORE_SID_MAX], tbuf[32],
              nbuf[32];

    argv[3].data = (const uint8_t *) n->consumer->name;
    argv[3].len = n->consumer->nname;
    if (idarg != NULL) {
        argv[5] = *idarg;
    } else {
        argv[5].len = store_sid_format(id, idbuf);
        argv[5].data = (const uint8_t *) idbuf;
    }
    argv[7].len = (size_t) snprintf(tbuf, sizeof(tbuf), "%lld",
                                    (long long) n->delivery_time);
    argv[7].data = (const uint8_t *) tbuf;
    argv[9].len = (size_t) snprintf(nbuf, sizeof(nbuf), "%llu",
                                    (unsigned long long) n->delivery_count);
    argv[9].data = (const uint8_t *) nbuf;
    argv[13].len = store_sid_format(&g->last_id, lastbuf);
    argv[13].data = (const uint8_t *) lastbuf;
    store_propagate_cmd(c, argv, 14);
}


/* XGROUP SETID <key> <group> <last id> ENTRIESREAD <n> */
void
store_sx_propagate_setid(store_client_t *c, const ob_str_t *key,
    const ob_str_t *group, const store_sgroup_t *g)
{
    ob_str_t  argv[7] = { XG_LIT("XGROUP"), XG_LIT("SETID"), *key, *group,
                          { 0, NULL }, XG_LIT("ENTRIESREAD"), { 0, NULL } };
    char      lastbuf[STORE_SID_MAX], nbuf[32];

    argv[4].len = store_sid_format(&g->last_id, lastbuf);
    argv[4].data = (const uint8_t *) lastbuf;
    argv[6].len = (size_t) snprintf(nbuf, sizeof(nbuf), "%lld",
                                    g->entries_read);
    argv[6].data = (const uint8_t *) nbuf;
    store_propagate_cmd(c, argv, 7);
}


/* XGROUP CREATECONSUMER <key> <group> <consumer>: a consumer that
 * XREADGROUP ... NOACK created (no XCLAIM will create it elsewhere). */
void
store_sx_propagate_createconsumer(store_client_t *c, const ob_str_t *key,
    const ob_str_t *group, const ob_str_t *consumer)
{
    ob_str_t  argv[5] = { XG_LIT("XGROUP"), XG_LIT("CREATECONSUMER"), *key,
                          *group, *consumer };

    store_propagate_cmd(c, argv, 5);
}


static void
xg_nogroup(store_client_t *c, const ob_str_t *key, const ob_str_t *group)
{
    store_add_errf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s'",
                   (int) key->len, key->data, (int) group->len, group->data);
}


/* ---- XGROUP ------------------------------------------------------------- */

static void
xg_syntax(store_client_t *c, const ob_str_t *sub)
{
    store_add_errf(c, "ERR unknown subcommand or wrong number of arguments "
                      "for '%.*s'. Try XGROUP HELP.",
                   (int) (sub->len > 128 ? 128 : sub->len), sub->data);
}


void
store_cmd_xgroup(store_client_t *c)
{
    static const char *const help[] = {
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help."
    };
    const ob_str_t     *sub = &c->argv[1], *key, *name;
    int                 create, setid, mkstream = 0, wrong, created;
    long long           entries_read = STORE_STREAM_ENTRIES_INVALID;
    size_t              i;
    store_stream_t     *s;
    store_sgroup_t     *g = NULL;
    store_sconsumer_t  *sc;
    store_obj_t        *o;
    store_sid_t         id;

    create = store_arg_is(sub, "create");
    setid = store_arg_is(sub, "setid");

    if (store_arg_is(sub, "help")) {
        if (c->argc != 2) {
            store_add_err_arity(c, "xgroup|help");
            return;
        }
        store_reply_array(&c->r, sizeof(help) / sizeof(help[0]));
        for (i = 0; i < sizeof(help) / sizeof(help[0]); i++) {
            store_reply_simple(&c->r, help[i], strlen(help[i]));
        }
        return;
    }
    if (create || setid) {
        if (c->argc < 5) {
            store_add_err_arity(c, create ? "xgroup|create" : "xgroup|setid");
            return;
        }
    } else if (store_arg_is(sub, "destroy")) {
        if (c->argc != 4) {
            store_add_err_arity(c, "xgroup|destroy");
            return;
        }
    } else if (store_arg_is(sub, "createconsumer")
               || store_arg_is(sub, "delconsumer"))
    {
        if (c->argc != 5) {
            store_add_err_arity(c, store_arg_is(sub, "createconsumer")
                                   ? "xgroup|createconsumer"
                                   : "xgroup|delconsumer");
            return;
        }
    } else {
        store_add_errf(c, "ERR unknown subcommand '%.*s'. Try XGROUP HELP.",
                       (int) (sub->len > 128 ? 128 : sub->len), sub->data);
        return;
    }
    key = &c->argv[2];
    name = &c->argv[3];

    /* Options first, as Redis parses them before it looks at the key. */
    if (create || setid) {
        for (i = 5; i < c->argc; ) {
            if (create && store_arg_is(&c->argv[i], "mkstream")) {
                mkstream = 1;
                i++;
            } else if (store_arg_is(&c->argv[i], "entriesread")
                       && i + 1 < c->argc)
            {
                if (store_get_ll_or_reply(c, &c->argv[i + 1], &entries_read,
                                          NULL) != OB_OK)
                {
                    return;
                }
                if (entries_read < 0
                    && entries_read != STORE_STREAM_ENTRIES_INVALID)
                {
                    store_add_err(c, "ERR value for ENTRIESREAD must be "
                                     "positive or -1");
                    return;
                }
                i += 2;
            } else {
                xg_syntax(c, sub);
                return;
            }
        }
    }

    s = store_sx_lookup(c, key, 1, &wrong);
    if (wrong) {
        return;
    }
    if (!mkstream) {
        if (s == NULL) {
            store_add_err(c, "ERR The XGROUP subcommand requires the key to "
                             "exist. Note that for CREATE you may want to use "
                             "the MKSTREAM option to create an empty stream "
                             "automatically.");
            return;
        }
        g = store_stream_group_find(s, name->data, name->len);
        if (g == NULL && !create && !store_arg_is(sub, "destroy")) {
            store_add_errf(c, "NOGROUP No such consumer group '%.*s' for key "
                              "name '%.*s'", (int) name->len, name->data,
                           (int) key->len, key->data);
            return;
        }
    }

    if (create) {
        if (c->argv[4].len == 1 && c->argv[4].data[0] == '$') {
            id = s != NULL ? s->last_id : xg_min;
        } else if (store_sx_parse_id_or_reply(c, &c->argv[4], 0, 1, &id,
                                              NULL) != OB_OK)
        {
            return;
        }
        o = NULL;
        if (s == NULL) {
            s = store_stream_new(store_arena(c), store_owner(c));
            o = s != NULL ? store_obj_payload_new(store_arena(c),
                                                  store_owner(c),
                                                  STORE_OBJ_STREAM,
                                                  STORE_ENC_STREAM, s)
                          : NULL;
            if (o == NULL
                || store_db_set(c->db, key->data, key->len, o, 0,
                                store_now_ms(c)) != OB_OK)
            {
                if (o != NULL) {
                    o->v.ptr = NULL;
                    store_obj_free(store_arena(c), store_owner(c), o);
                }
                store_stream_destroy(s);
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
        }
        if (store_stream_group_find(s, name->data, name->len) != NULL) {
            store_add_err(c, "BUSYGROUP Consumer Group name already exists");
            return;
        }
        if (store_stream_group_create(s, name->data, name->len, &id,
                                      entries_read) == NULL)
        {
            store_add_err(c, STORE_ERR_OOM);
            if (o != NULL) {
                store_key_changed(c, key, STORE_NOTIFY_STREAM,
                                  "xgroup-create");
            }
            return;
        }
        store_add_ok(c);
        /* Redis signals a modified key only when MKSTREAM made it; the
         * other group changes are notifications alone (WATCH ignores
         * them). */
        if (o != NULL) {
            store_key_changed(c, key, STORE_NOTIFY_STREAM, "xgroup-create");
        } else {
            /* but the group is a change all the same (server.dirty++),
             * counted and so propagated */
            c->st->dirty++;
            store_notify(c->st, c->dbid, key, STORE_NOTIFY_STREAM,
                         "xgroup-create");
        }

    } else if (setid) {
        if (c->argv[4].len == 1 && c->argv[4].data[0] == '$') {
            id = s->last_id;
        } else if (store_sx_parse_id_or_reply(c, &c->argv[4], 0, 0, &id,
                                              NULL) != OB_OK)
        {
            return;
        }
        g->last_id = id;
        g->entries_read = entries_read;
        c->st->dirty++;                 /* written as received */
        store_add_ok(c);
        store_notify(c->st, c->dbid, key, STORE_NOTIFY_STREAM,
                     "xgroup-setid");

    } else if (store_arg_is(sub, "destroy")) {
        if (g == NULL) {
            store_reply_int(&c->r, 0);
            return;
        }
        store_stream_group_destroy(s, g);
        c->st->dirty++;
        store_reply_int(&c->r, 1);
        store_notify(c->st, c->dbid, key, STORE_NOTIFY_STREAM,
                     "xgroup-destroy");
        /* Blocked XREADGROUPs on it wake up to their NOGROUP error. */
        store_key_ready(c, key);

    } else if (store_arg_is(sub, "createconsumer")) {
        sc = store_sgroup_consumer_find(g, c->argv[4].data, c->argv[4].len);
        if (sc != NULL) {
            store_reply_int(&c->r, 0);
            return;
        }
        sc = store_sx_consumer(c, s, g, &c->argv[4], 0, &created);
        if (sc == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        c->st->dirty++;
        store_reply_int(&c->r, 1);
        store_notify(c->st, c->dbid, key, STORE_NOTIFY_STREAM,
                         "xgroup-createconsumer");

    } else {
        long long  pending = 0;

        sc = store_sgroup_consumer_find(g, c->argv[4].data, c->argv[4].len);
        if (sc != NULL) {
            pending = (long long) store_sgroup_consumer_delete(s, g, sc);
            c->st->dirty++;
        }
        store_reply_int(&c->r, pending);
        if (sc != NULL) {
            store_notify(c->st, c->dbid, key, STORE_NOTIFY_STREAM,
                         "xgroup-delconsumer");
        }
    }
}


/* ---- XACK --------------------------------------------------------------- */

void
store_cmd_xack(store_client_t *c)
{
    store_stream_t  *s;
    store_sgroup_t  *g = NULL;
    store_sid_t      sid, *ids;
    size_t           j, n = c->argc - 3;
    long long        acked = 0;
    int              wrong;

    s = store_sx_lookup(c, &c->argv[1], 0, &wrong);
    if (wrong) {
        return;
    }
    if (s != NULL) {
        g = store_stream_group_find(s, c->argv[2].data, c->argv[2].len);
    }
    if (g == NULL) {
        store_reply_int(&c->r, 0);
        return;
    }
    ids = n > 1 ? malloc(n * sizeof(*ids)) : &sid;
    if (ids == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    for (j = 0; j < n; j++) {
        if (store_sx_parse_id_or_reply(c, &c->argv[j + 3], 0, 1, &ids[j],
                                       NULL) != OB_OK)
        {
            goto done;
        }
    }
    for (j = 0; j < n; j++) {
        acked += store_sgroup_pel_ack(s, g, &ids[j]);
    }
    c->st->dirty += (uint64_t) acked;   /* written as received if any */
    store_reply_int(&c->r, acked);
done:
    if (ids != &sid) {
        free(ids);
    }
}


/* ---- XPENDING ----------------------------------------------------------- */

static void
xg_pending_summary(store_client_t *c, const store_sgroup_t *g)
{
    store_sid_t  first, last;
    char         buf[STORE_REPLY_LL_MAX];
    size_t       i, n = 0, len;
    store_smap_iter_t  it;
    void        *val;

    store_reply_array(&c->r, 4);
    store_reply_int(&c->r, (long long) store_sgroup_pel_count(g));
    if (store_sgroup_pel_count(g) == 0) {
        store_reply_null(&c->r);
        store_reply_null(&c->r);
        store_reply_null_array(&c->r);
        return;
    }
    store_smap_seek(g->pel, &xg_min, &it);
    (void) store_smap_next(&it, &first, &val);
    (void) store_smap_last(g->pel, &last);
    store_sx_reply_id(c, &first);
    store_sx_reply_id(c, &last);
    for (i = 0; i < g->nconsumers; i++) {
        n += store_sconsumer_pel_count(g->consumers[i]) > 0;
    }
    store_reply_array(&c->r, n);
    for (i = 0; i < g->nconsumers; i++) {
        const store_sconsumer_t  *sc = g->consumers[i];

        if (store_sconsumer_pel_count(sc) == 0) {
            continue;
        }
        store_reply_array(&c->r, 2);
        store_reply_bulk(&c->r, sc->name, sc->nname);
        len = store_reply_ll_format((long long) store_sconsumer_pel_count(sc),
                                    buf);
        store_reply_bulk(&c->r, buf, len);
    }
}


void
store_cmd_xpending(store_client_t *c)
{
    const ob_str_t     *key = &c->argv[1], *group = &c->argv[2];
    const ob_str_t     *cname = NULL;
    store_sid_t         start, end, id;
    long long           count = 0, minidle = 0;
    size_t              sidx = 3, total, i;
    store_stream_t     *s;
    store_sgroup_t     *g;
    store_sconsumer_t  *sc = NULL;
    store_smap_t       *pel;
    store_smap_iter_t   it;
    store_snack_t      *n;
    void               *val;
    int64_t             now, idle;
    int                 wrong;

    if (c->argc != 3 && (c->argc < 6 || c->argc > 9)) {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    if (c->argc >= 6) {
        if (store_arg_is(&c->argv[3], "idle")) {
            if (store_get_ll_or_reply(c, &c->argv[4], &minidle, NULL)
                != OB_OK)
            {
                return;
            }
            if (c->argc < 8) {
                store_add_err(c, STORE_ERR_SYNTAX);
                return;
            }
            sidx += 2;
        }
        if (store_get_ll_or_reply(c, &c->argv[sidx + 2], &count, NULL)
            != OB_OK)
        {
            return;
        }
        if (count < 0) {
            count = 0;
        }
        if (store_sx_parse_bound_or_reply(c, &c->argv[sidx], 0, &start)
            != OB_OK
            || store_sx_parse_bound_or_reply(c, &c->argv[sidx + 1], 1, &end)
               != OB_OK)
        {
            return;
        }
        if (sidx + 3 < c->argc) {
            cname = &c->argv[sidx + 3];
            if (sidx + 4 < c->argc) {
                store_add_err(c, STORE_ERR_SYNTAX);
                return;
            }
        }
    }

    s = store_sx_lookup(c, key, 0, &wrong);
    if (wrong) {
        return;
    }
    g = s != NULL ? store_stream_group_find(s, group->data, group->len) : NULL;
    if (g == NULL) {
        xg_nogroup(c, key, group);
        return;
    }
    if (c->argc == 3) {
        xg_pending_summary(c, g);
        return;
    }

    if (cname != NULL) {
        sc = store_sgroup_consumer_find(g, cname->data, cname->len);
        if (sc == NULL) {
            store_reply_array(&c->r, 0);
            return;
        }
    }
    pel = sc != NULL ? sc->pel : g->pel;
    now = store_now_ms(c);

    /* Count, then send: the idle filter makes the count a walk. */
    total = 0;
    store_smap_seek(pel, &start, &it);
    while ((long long) total < count && store_smap_next(&it, &id, &val)
           && store_sid_cmp(&id, &end) <= 0)
    {
        n = val;
        if (minidle && now - n->delivery_time < minidle) {
            continue;
        }
        total++;
    }
    store_reply_array(&c->r, total);
    store_smap_seek(pel, &start, &it);
    for (i = 0; i < total && store_smap_next(&it, &id, &val); ) {
        n = val;
        if (minidle && now - n->delivery_time < minidle) {
            continue;
        }
        i++;
        idle = now - n->delivery_time;
        store_reply_array(&c->r, 4);
        store_sx_reply_id(c, &id);
        store_reply_bulk(&c->r, n->consumer->name, n->consumer->nname);
        store_reply_int(&c->r, idle < 0 ? 0 : idle);
        store_reply_int(&c->r, (long long) n->delivery_count);
    }
}


/* ---- XCLAIM ------------------------------------------------------------- */

/* Gives the pending entry n (id) to sc, with Redis's delivery rules. */
static int
xg_claim_one(store_stream_t *s, store_sgroup_t *g, store_sconsumer_t *sc,
             const store_sid_t *id, store_snack_t *n, int64_t delivery_time,
             long long retrycount, int justid)
{
    if (store_sgroup_pel_move(s, g, id, n, sc) != OB_OK) {
        return OB_ERR;
    }
    n->delivery_time = delivery_time;
    if (retrycount >= 0) {
        n->delivery_count = (uint64_t) retrycount;
    } else if (!justid) {
        n->delivery_count++;
    }
    return OB_OK;
}


void
store_cmd_xclaim(store_client_t *c)
{
    const ob_str_t     *key = &c->argv[1], *group = &c->argv[2];
    store_stream_t     *s;
    store_sgroup_t     *g;
    store_sconsumer_t  *sc = NULL;
    store_snack_t      *n;
    store_sentry_t      e;
    store_sid_t        *ids = NULL, last_id = { 0, 0 }, id;
    long long           minidle, retrycount = -1, v;
    int64_t             now = store_now_ms(c), deliverytime = -1;
    int                 force = 0, justid = 0, wrong, propagate_last_id = 0;
    size_t              j, nids, k, claimed, *claim = NULL;

    s = store_sx_lookup(c, key, 0, &wrong);
    if (wrong) {
        return;
    }
    g = s != NULL ? store_stream_group_find(s, group->data, group->len) : NULL;
    if (g == NULL) {
        xg_nogroup(c, key, group);
        return;
    }
    if (store_get_ll_or_reply(c, &c->argv[4], &minidle,
                              "ERR Invalid min-idle-time argument for XCLAIM")
        != OB_OK)
    {
        return;
    }
    if (minidle < 0) {
        minidle = 0;
    }

    ids = malloc((c->argc - 5) * sizeof(*ids));
    if (ids == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    /* The IDs end at the first argument that is not one: Redis parses
     * them without replying, then takes the rest as options. */
    for (j = 5; j < c->argc; j++) {
        if (store_sx_parse_id(&c->argv[j], 0, 1, &ids[j - 5], NULL) != OB_OK) {
            break;
        }
    }
    nids = j - 5;

    for (; j < c->argc; j++) {
        size_t     more = c->argc - 1 - j;
        ob_str_t  *a = &c->argv[j];

        if (store_arg_is(a, "force")) {
            force = 1;
        } else if (store_arg_is(a, "justid")) {
            justid = 1;
        } else if (store_arg_is(a, "idle") && more > 0) {
            j++;
            if (store_get_ll_or_reply(c, &c->argv[j], &v,
                                      "ERR Invalid IDLE option argument for "
                                      "XCLAIM") != OB_OK)
            {
                goto done;
            }
            deliverytime = now - v;
        } else if (store_arg_is(a, "time") && more > 0) {
            j++;
            if (store_get_ll_or_reply(c, &c->argv[j], &v,
                                      "ERR Invalid TIME option argument for "
                                      "XCLAIM") != OB_OK)
            {
                goto done;
            }
            deliverytime = v;
        } else if (store_arg_is(a, "retrycount") && more > 0) {
            j++;
            if (store_get_ll_or_reply(c, &c->argv[j], &retrycount,
                                      "ERR Invalid RETRYCOUNT option argument "
                                      "for XCLAIM") != OB_OK)
            {
                goto done;
            }
        } else if (store_arg_is(a, "lastid") && more > 0) {
            j++;
            if (store_sx_parse_id_or_reply(c, &c->argv[j], 0, 1, &last_id,
                                           NULL) != OB_OK)
            {
                goto done;
            }
        } else {
            store_add_errf(c, "ERR Unrecognized XCLAIM option '%.*s'",
                           (int) (a->len > 128 ? 128 : a->len), a->data);
            goto done;
        }
    }

    if (store_sid_cmp(&last_id, &g->last_id) > 0) {
        g->last_id = last_id;
        propagate_last_id = 1;
    }
    if (deliverytime != -1) {
        if (deliverytime < 0 || deliverytime > now) {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }

    /* First pass: what is claimed (and drop deleted entries' NACKs);
     * the reply's length must be known before the entries go out. */
    claim = malloc((nids + 1) * sizeof(*claim));
    if (claim == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        goto done;
    }
    claimed = 0;
    for (k = 0; k < nids; k++) {
        id = ids[k];
        n = store_sgroup_pel_find(g, &id);
        if (!store_stream_lookup(s, &id, &e)) {
            if (n != NULL) {
                /* written as the XCLAIM of the NACK as it was, which
                 * drops it on the other side too */
                store_sx_propagate_xclaim(c, key, group, g, &c->argv[5 + k],
                                          &id, n);
                propagate_last_id = 0;
                c->st->dirty++;
                (void) store_sgroup_pel_ack(s, g, &id);
            }
            continue;
        }
        if (n == NULL && !force) {
            continue;
        }
        if (n != NULL && minidle && now - n->delivery_time < minidle) {
            continue;
        }
        if (sc == NULL) {
            int  created;

            sc = store_sx_consumer(c, s, g, &c->argv[3], 1, &created);
            if (sc == NULL) {
                break;
            }
            /* Redis 7.0 counts the consumer's creation as a change of
             * its own (streamCreateConsumer's dirty++). */
            c->st->dirty += (uint64_t) created;
        }
        if (n == NULL) {
            /* FORCE: a NACK born with one delivery, then claimed as any. */
            n = store_sgroup_pel_add(s, g, sc, &id, deliverytime);
            if (n == NULL) {
                continue;
            }
        }
        if (xg_claim_one(s, g, sc, &id, n, deliverytime, retrycount, justid)
            != OB_OK)
        {
            continue;
        }
        store_sx_propagate_xclaim(c, key, group, g, &c->argv[5 + k], &id, n);
        propagate_last_id = 0;          /* the XCLAIM's LASTID carries it */
        c->st->dirty++;
        claim[claimed++] = k;
    }
    if (propagate_last_id) {
        store_sx_propagate_setid(c, key, group, g);
        c->st->dirty++;
    }
    /* XCLAIM itself is never written: only the effects above. */
    store_propagate_nothing(c);

    store_reply_array(&c->r, claimed);
    for (k = 0; k < claimed; k++) {
        id = ids[claim[k]];
        if (justid) {
            store_sx_reply_id(c, &id);
        } else if (store_stream_lookup(s, &id, &e)) {
            store_sx_reply_entry(c, &e);
        } else {
            store_reply_null(&c->r);
        }
    }

done:
    free(claim);
    free(ids);
}


/* ---- XAUTOCLAIM --------------------------------------------------------- */

void
store_cmd_xautoclaim(store_client_t *c)
{
    const ob_str_t     *key = &c->argv[1], *group = &c->argv[2];
    store_stream_t     *s;
    store_sgroup_t     *g;
    store_sconsumer_t  *sc = NULL;
    store_snack_t      *n;
    store_sentry_t      e;
    store_sid_t         start, id, next, *claimed = NULL, *deleted = NULL;
    store_smap_iter_t   it;
    long long           minidle, count = 100, attempts;
    int64_t             now = store_now_ms(c);
    int                 justid = 0, wrong;
    size_t              j, nclaimed = 0, ndeleted = 0, cap, k;
    void               *val;

    if (store_get_ll_or_reply(c, &c->argv[4], &minidle,
                              "ERR Invalid min-idle-time argument for "
                              "XAUTOCLAIM") != OB_OK)
    {
        return;
    }
    if (minidle < 0) {
        minidle = 0;
    }
    if (store_sx_parse_bound_or_reply(c, &c->argv[5], 0, &start) != OB_OK) {
        return;
    }
    for (j = 6; j < c->argc; j++) {
        if (store_arg_is(&c->argv[j], "count") && j + 1 < c->argc) {
            if (store_get_range_ll_or_reply(c, &c->argv[j + 1], 1,
                                            LLONG_MAX / 16, &count,
                                            "ERR COUNT must be > 0") != OB_OK)
            {
                return;
            }
            j++;
        } else if (store_arg_is(&c->argv[j], "justid")) {
            justid = 1;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }

    s = store_sx_lookup(c, key, 0, &wrong);
    if (wrong) {
        return;
    }
    g = s != NULL ? store_stream_group_find(s, group->data, group->len) : NULL;
    if (g == NULL) {
        xg_nogroup(c, key, group);
        return;
    }

    /* What is claimed and what was deleted, found before anything is
     * sent; both are bounded by the PEL's size, whatever COUNT says. */
    cap = store_sgroup_pel_count(g);
    if ((unsigned long long) count < cap) {
        cap = (size_t) count;
    }
    claimed = malloc((cap + 1) * sizeof(*claimed));
    deleted = malloc((cap + 1) * sizeof(*deleted));
    if (claimed == NULL || deleted == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        goto done;
    }
    attempts = count * SX_AUTOCLAIM_ATTEMPTS;
    store_smap_seek(g->pel, &start, &it);
    while (attempts-- > 0 && count > 0) {
        if (!store_smap_next(&it, &id, &val)) {
            break;
        }
        n = val;
        if (!store_stream_lookup(s, &id, &e)) {
            /* Written as the XCLAIM of the NACK as it was, which drops
             * it on the other side too; the iterator already stands past
             * this node. */
            store_sx_propagate_xclaim(c, key, group, g, NULL, &id, n);
            c->st->dirty++;
            (void) store_sgroup_pel_ack(s, g, &id);
            deleted[ndeleted++] = id;
            count--;
            continue;
        }
        if (minidle && now - n->delivery_time < minidle) {
            continue;
        }
        if (sc == NULL) {
            int  created;

            sc = store_sx_consumer(c, s, g, &c->argv[3], 1, &created);
            if (sc == NULL) {
                break;
            }
            /* Redis 7.0 counts the consumer's creation as a change of
             * its own (streamCreateConsumer's dirty++). */
            c->st->dirty += (uint64_t) created;
        }
        if (store_sgroup_pel_move(s, g, &id, n, sc) != OB_OK) {
            continue;
        }
        n->delivery_time = now;
        if (!justid) {
            n->delivery_count++;
        }
        store_sx_propagate_xclaim(c, key, group, g, NULL, &id, n);
        c->st->dirty++;
        claimed[nclaimed++] = id;
        count--;
    }
    store_propagate_nothing(c);         /* only the XCLAIMs above */
    /* The cursor: the next PEL entry, or 0-0 at the end. */
    next.ms = 0;
    next.seq = 0;
    if (store_smap_next(&it, &id, &val)) {
        next = id;
    }

    store_reply_array(&c->r, 3);
    store_sx_reply_id(c, &next);
    store_reply_array(&c->r, nclaimed);
    for (k = 0; k < nclaimed; k++) {
        if (justid) {
            store_sx_reply_id(c, &claimed[k]);
        } else if (store_stream_lookup(s, &claimed[k], &e)) {
            store_sx_reply_entry(c, &e);
        } else {
            store_reply_null(&c->r);
        }
    }
    store_reply_array(&c->r, ndeleted);
    for (k = 0; k < ndeleted; k++) {
        store_sx_reply_id(c, &deleted[k]);
    }

done:
    free(claimed);
    free(deleted);
}
