/*
 * store_cmd_xinfo.c: XINFO STREAM [FULL [COUNT n]], XINFO GROUPS and
 * XINFO CONSUMERS, with Redis 7.0.15's fields (entries-read, lag,
 * recorded-first-entry-id ...) and shapes (maps under RESP3).
 *
 * One thing cannot match: radix-tree-nodes counts the nodes of Redis's
 * rax, which we do not have; we answer what a rax of that many keys holds
 * at least.  radix-tree-keys, the count of our entry nodes, does match:
 * nodes close where Redis's listpacks would (store_stream.c).
 */
#include "store_cmd_stream.h"

#include <string.h>

static const store_sid_t  sx_min = { 0, 0 };
static const store_sid_t  sx_max = { UINT64_MAX, UINT64_MAX };


/* ---- XINFO -------------------------------------------------------------- */

static void
sx_reply_lag(store_client_t *c, const store_stream_t *s,
             const store_sgroup_t *g)
{
    long long  read;

    if (s->entries_added == 0) {
        store_reply_int(&c->r, 0);
        return;
    }
    if (g->entries_read != STORE_STREAM_ENTRIES_INVALID
        && !store_stream_range_has_tombstones(s, &g->last_id, NULL))
    {
        store_reply_int(&c->r, (long long) s->entries_added - g->entries_read);
        return;
    }
    read = store_stream_estimate_read(s, &g->last_id);
    if (read != STORE_STREAM_ENTRIES_INVALID) {
        store_reply_int(&c->r, (long long) s->entries_added - read);
    } else {
        store_reply_null(&c->r);
    }
}


static void
sx_reply_entries_read(store_client_t *c, const store_sgroup_t *g)
{
    if (g->entries_read == STORE_STREAM_ENTRIES_INVALID) {
        store_reply_null(&c->r);
    } else {
        store_reply_int(&c->r, g->entries_read);
    }
}


static void
sx_str(store_client_t *c, const char *s)
{
    store_reply_bulk(&c->r, s, strlen(s));
}


/* The head of XINFO STREAM's reply (the fields both forms share). */
static void
sx_info_head(store_client_t *c, const store_stream_t *s, size_t npairs)
{
    store_reply_map(&c->r, npairs);
    sx_str(c, "length");
    store_reply_int(&c->r, (long long) s->length);
    sx_str(c, "radix-tree-keys");
    store_reply_int(&c->r, (long long) store_stream_nodes(s));
    /* Our index is no radix tree: the count of a rax holding that many
     * keys in its simplest shape (a root plus one node a key). */
    sx_str(c, "radix-tree-nodes");
    store_reply_int(&c->r, (long long) store_stream_nodes(s) + 1);
    sx_str(c, "last-generated-id");
    store_sx_reply_id(c, &s->last_id);
    sx_str(c, "max-deleted-entry-id");
    store_sx_reply_id(c, &s->max_deleted);
    sx_str(c, "entries-added");
    store_reply_int(&c->r, (long long) s->entries_added);
    sx_str(c, "recorded-first-entry-id");
    store_sx_reply_id(c, &s->first_id);
}


/* Counts a PEL's first entries, at most count (0: all). */
static size_t
sx_pel_take(const store_smap_t *m, long long count)
{
    size_t  n = store_smap_count(m);

    return count == 0 || (size_t) count > n ? n : (size_t) count;
}


static void
sx_info_stream_full(store_client_t *c, const store_stream_t *s,
                    long long count)
{
    store_smap_iter_t   it;
    store_sid_t         id;
    void               *val;
    store_snack_t      *n;
    size_t              i, j, k, take;

    sx_info_head(c, s, 9);
    sx_str(c, "entries");
    (void) store_sx_reply_range(c, s, &sx_min, &sx_max, (size_t) count, 0);
    sx_str(c, "groups");
    store_reply_array(&c->r, s->ngroups);
    for (i = 0; i < s->ngroups; i++) {
        const store_sgroup_t  *g = s->groups[i];

        store_reply_map(&c->r, 7);
        sx_str(c, "name");
        store_reply_bulk(&c->r, g->name, g->nname);
        sx_str(c, "last-delivered-id");
        store_sx_reply_id(c, &g->last_id);
        sx_str(c, "entries-read");
        sx_reply_entries_read(c, g);
        sx_str(c, "lag");
        sx_reply_lag(c, s, g);
        sx_str(c, "pel-count");
        store_reply_int(&c->r, (long long) store_sgroup_pel_count(g));
        sx_str(c, "pending");
        take = sx_pel_take(g->pel, count);
        store_reply_array(&c->r, take);
        store_smap_seek(g->pel, &sx_min, &it);
        for (k = 0; k < take && store_smap_next(&it, &id, &val); k++) {
            n = val;
            store_reply_array(&c->r, 4);
            store_sx_reply_id(c, &id);
            store_reply_bulk(&c->r, n->consumer->name, n->consumer->nname);
            store_reply_int(&c->r, n->delivery_time);
            store_reply_int(&c->r, (long long) n->delivery_count);
        }
        sx_str(c, "consumers");
        store_reply_array(&c->r, g->nconsumers);
        for (j = 0; j < g->nconsumers; j++) {
            const store_sconsumer_t  *sc = g->consumers[j];

            store_reply_map(&c->r, 4);
            sx_str(c, "name");
            store_reply_bulk(&c->r, sc->name, sc->nname);
            sx_str(c, "seen-time");
            store_reply_int(&c->r, sc->seen_time);
            sx_str(c, "pel-count");
            store_reply_int(&c->r, (long long) store_sconsumer_pel_count(sc));
            sx_str(c, "pending");
            take = sx_pel_take(sc->pel, count);
            store_reply_array(&c->r, take);
            store_smap_seek(sc->pel, &sx_min, &it);
            for (k = 0; k < take && store_smap_next(&it, &id, &val); k++) {
                n = val;
                store_reply_array(&c->r, 3);
                store_sx_reply_id(c, &id);
                store_reply_int(&c->r, n->delivery_time);
                store_reply_int(&c->r, (long long) n->delivery_count);
            }
        }
    }
}


static void
sx_info_stream(store_client_t *c, const store_stream_t *s)
{
    store_stream_iter_t  it;
    store_sentry_t       e;
    long long            count = 10;
    size_t               optc = c->argc - 3;

    if (optc != 0) {
        if ((optc != 1 && optc != 3) || !store_arg_is(&c->argv[3], "full")
            || (optc == 3 && !store_arg_is(&c->argv[4], "count")))
        {
            store_add_errf(c, "ERR unknown subcommand or wrong number of "
                              "arguments for '%.*s'. Try XINFO HELP.",
                           (int) (c->argv[1].len > 128 ? 128
                                  : c->argv[1].len), c->argv[1].data);
            return;
        }
        if (optc == 3) {
            if (store_get_ll_or_reply(c, &c->argv[5], &count, NULL) != OB_OK) {
                return;
            }
            if (count < 0) {
                count = 10;
            }
        }
        sx_info_stream_full(c, s, count);
        return;
    }

    sx_info_head(c, s, 10);
    sx_str(c, "groups");
    store_reply_int(&c->r, (long long) s->ngroups);
    sx_str(c, "first-entry");
    store_stream_iter_start(s, &it, &sx_min, &sx_max, 0);
    if (store_stream_iter_next(&it, &e)) {
        store_sx_reply_entry(c, &e);
    } else {
        store_reply_null(&c->r);
    }
    sx_str(c, "last-entry");
    store_stream_iter_start(s, &it, &sx_min, &sx_max, 1);
    if (store_stream_iter_next(&it, &e)) {
        store_sx_reply_entry(c, &e);
    } else {
        store_reply_null(&c->r);
    }
}


static void
sx_reply_help(store_client_t *c, const char *const *lines, size_t n)
{
    size_t  i;

    store_reply_array(&c->r, n);
    for (i = 0; i < n; i++) {
        store_reply_simple(&c->r, lines[i], strlen(lines[i]));
    }
}


void
store_cmd_xinfo(store_client_t *c)
{
    static const char *const help[] = {
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help."
    };
    const ob_str_t   *sub = &c->argv[1];
    store_stream_t   *s;
    store_sgroup_t   *g;
    size_t            i;
    int               wrong;
    int64_t           now, idle;

    if (store_arg_is(sub, "help")) {
        if (c->argc != 2) {
            store_add_err_arity(c, "xinfo|help");
            return;
        }
        sx_reply_help(c, help, sizeof(help) / sizeof(help[0]));
        return;
    }
    if (store_arg_is(sub, "stream")) {
        if (c->argc < 3) {
            store_add_err_arity(c, "xinfo|stream");
            return;
        }
    } else if (store_arg_is(sub, "groups")) {
        if (c->argc != 3) {
            store_add_err_arity(c, "xinfo|groups");
            return;
        }
    } else if (store_arg_is(sub, "consumers")) {
        if (c->argc != 4) {
            store_add_err_arity(c, "xinfo|consumers");
            return;
        }
    } else {
        store_add_errf(c, "ERR unknown subcommand '%.*s'. Try XINFO HELP.",
                       (int) (sub->len > 128 ? 128 : sub->len), sub->data);
        return;
    }

    s = store_sx_lookup(c, &c->argv[2], 0, &wrong);
    if (wrong) {
        return;
    }
    if (s == NULL) {
        store_add_err(c, STORE_ERR_NO_KEY);
        return;
    }

    if (store_arg_is(sub, "stream")) {
        sx_info_stream(c, s);

    } else if (store_arg_is(sub, "groups")) {
        store_reply_array(&c->r, s->ngroups);
        for (i = 0; i < s->ngroups; i++) {
            g = s->groups[i];
            store_reply_map(&c->r, 6);
            sx_str(c, "name");
            store_reply_bulk(&c->r, g->name, g->nname);
            sx_str(c, "consumers");
            store_reply_int(&c->r, (long long) g->nconsumers);
            sx_str(c, "pending");
            store_reply_int(&c->r, (long long) store_sgroup_pel_count(g));
            sx_str(c, "last-delivered-id");
            store_sx_reply_id(c, &g->last_id);
            sx_str(c, "entries-read");
            sx_reply_entries_read(c, g);
            sx_str(c, "lag");
            sx_reply_lag(c, s, g);
        }

    } else {
        g = store_stream_group_find(s, c->argv[3].data, c->argv[3].len);
        if (g == NULL) {
            store_add_errf(c, "NOGROUP No such consumer group '%.*s' for key "
                              "name '%.*s'", (int) c->argv[3].len,
                           c->argv[3].data, (int) c->argv[2].len,
                           c->argv[2].data);
            return;
        }
        now = store_now_ms(c);
        store_reply_array(&c->r, g->nconsumers);
        for (i = 0; i < g->nconsumers; i++) {
            const store_sconsumer_t  *sc = g->consumers[i];

            idle = now - sc->seen_time;
            store_reply_map(&c->r, 3);
            sx_str(c, "name");
            store_reply_bulk(&c->r, sc->name, sc->nname);
            sx_str(c, "pending");
            store_reply_int(&c->r, (long long) store_sconsumer_pel_count(sc));
            sx_str(c, "idle");
            store_reply_int(&c->r, idle < 0 ? 0 : idle);
        }
    }
}
