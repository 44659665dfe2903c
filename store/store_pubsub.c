/*
 * store_pubsub.c: publish/subscribe (SUBSCRIBE, PSUBSCRIBE, their UN-
 * forms, PUBLISH, PUBSUB) and the delivery of keyspace notifications.
 *
 * Channels are a hash table of channel -> subscribers (a list); patterns
 * are one list of (client, pattern), matched with Redis's glob at every
 * PUBLISH, as Redis does.  A client's count (the third element of every
 * confirmation) is its channels plus its patterns.  Messages go out as
 * RESP2 arrays or RESP3 pushes.
 *
 * A subscriber that does not read cannot make the server hold its
 * messages forever: once its pending output passes pubsub_output_limit
 * (Redis's client-output-buffer-limit pubsub, hard), it is disconnected.
 */
#include "store_srv.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "store_glob.h"


static uint64_t
store_channel_hash_key(const void *key, size_t nkey, void *ctx)
{
    (void) ctx;
    return XXH3_64bits(key, nkey);
}


static uint64_t
store_channel_hash_entry(const ob_hash_link_t *e, void *ctx)
{
    const store_channel_t *ch = OB_HASH_ENTRY(e, store_channel_t, hlink);

    (void) ctx;
    return XXH3_64bits(ch->name, ch->len);
}


static int
store_channel_is_key(const ob_hash_link_t *e, const void *key, size_t nkey,
                     void *ctx)
{
    const store_channel_t *ch = OB_HASH_ENTRY(e, store_channel_t, hlink);

    (void) ctx;
    return ch->len == nkey && memcmp(ch->name, key, nkey) == 0;
}


static const ob_hash_type_t store_channel_type = {
    .hash_key = store_channel_hash_key,
    .hash_entry = store_channel_hash_entry,
    .entry_is_key = store_channel_is_key
};


int
store_pubsub_init(store_t *st)
{
    return ob_hash_init(&st->channels, &store_channel_type, st,
                        &(ob_hash_conf_t) { .power_init = 4,
                                            .load_factor = 1.0,
                                            .shrink_fill = 0.1 });
}


void
store_pubsub_fini(store_t *st)
{
    ob_hash_fini(&st->channels);
}


size_t
store_client_subscriptions(const store_client_t *c)
{
    return c->ext->nchans + c->ext->npatterns;
}


static void
store_pubsub_update_flag(store_client_t *c)
{
    if (store_client_subscriptions(c) > 0) {
        c->flags |= STORE_CLIENT_PUBSUB;
    } else {
        c->flags &= ~STORE_CLIENT_PUBSUB;
    }
}


/* "subscribe", ch, count (and the like) as an array or a push. */
static void
store_pubsub_confirm(store_client_t *c, const char *kind, const void *name,
                     size_t len)
{
    store_reply_push(&c->r, 3);
    store_reply_bulk(&c->r, kind, strlen(kind));
    if (name != NULL) {
        store_reply_bulk(&c->r, name, len);
    } else {
        store_reply_null(&c->r);
    }
    store_reply_int(&c->r, (long long) store_client_subscriptions(c));
}


static int
store_subscribe_one(store_client_t *c, const ob_str_t *name)
{
    store_t                    *st = c->st;
    struct store_client_ext_s  *x = c->ext;
    ob_hash_link_t             *link;
    store_channel_t            *ch;
    store_sub_t                *sub;
    size_t                      i;

    link = ob_hash_find(&st->channels, name->data, name->len);
    ch = link != NULL ? OB_HASH_ENTRY(link, store_channel_t, hlink) : NULL;
    if (ch != NULL) {
        for (i = 0; i < x->nchans; i++) {
            if (x->chans[i].ch == ch) {
                return OB_OK;           /* subscribed already */
            }
        }
    }
    if (x->nchans == x->chans_cap) {
        size_t               cap = x->chans_cap ? x->chans_cap * 2 : 4;
        store_client_chan_t *grown = realloc(x->chans, cap * sizeof(*grown));

        if (grown == NULL) {
            return OB_ERR;
        }
        x->chans = grown;
        x->chans_cap = cap;
    }
    sub = malloc(sizeof(*sub));
    if (sub == NULL) {
        return OB_ERR;
    }
    if (ch == NULL) {
        ch = calloc(1, sizeof(*ch) + name->len);
        if (ch == NULL) {
            free(sub);
            return OB_ERR;
        }
        ch->len = (uint32_t) name->len;
        memcpy(ch->name, name->data, name->len);
        ob_hash_insert(&st->channels, &ch->hlink);
    }
    sub->c = c;
    sub->prev = NULL;
    sub->next = ch->head;
    if (ch->head != NULL) {
        ch->head->prev = sub;
    }
    ch->head = sub;
    ch->nsubs++;
    x->chans[x->nchans].ch = ch;
    x->chans[x->nchans].sub = sub;
    x->nchans++;
    return OB_OK;
}


/* Drops the client's subscription number i. */
static void
store_unsubscribe_at(store_client_t *c, size_t i)
{
    struct store_client_ext_s  *x = c->ext;
    store_channel_t            *ch = x->chans[i].ch;
    store_sub_t                *sub = x->chans[i].sub;

    if (sub->prev != NULL) {
        sub->prev->next = sub->next;
    } else {
        ch->head = sub->next;
    }
    if (sub->next != NULL) {
        sub->next->prev = sub->prev;
    }
    free(sub);
    if (--ch->nsubs == 0) {
        ob_hash_delete(&c->st->channels, &ch->hlink);
        free(ch);
    }
    /* keep the order of the rest: UNSUBSCRIBE with no argument answers
     * in subscription order */
    memmove(&x->chans[i], &x->chans[i + 1],
            (x->nchans - i - 1) * sizeof(x->chans[0]));
    x->nchans--;
}


static void
store_cmd_subscribe(store_client_t *c)
{
    size_t i;

    for (i = 1; i < c->argc; i++) {
        if (store_subscribe_one(c, &c->argv[i]) != OB_OK) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        store_pubsub_update_flag(c);
        store_pubsub_confirm(c, "subscribe", c->argv[i].data,
                             c->argv[i].len);
    }
}


static void
store_cmd_unsubscribe(store_client_t *c)
{
    struct store_client_ext_s  *x = c->ext;
    size_t                      i, k;

    if (c->argc == 1) {
        if (x->nchans == 0) {
            store_pubsub_confirm(c, "unsubscribe", NULL, 0);
            return;
        }
        while (x->nchans > 0) {
            store_channel_t *ch = x->chans[0].ch;
            char            *name = malloc(ch->len + 1);
            size_t           len = ch->len;

            if (name == NULL) {
                return;
            }
            memcpy(name, ch->name, len);
            store_unsubscribe_at(c, 0);
            store_pubsub_update_flag(c);
            store_pubsub_confirm(c, "unsubscribe", name, len);
            free(name);
        }
        return;
    }
    for (i = 1; i < c->argc; i++) {
        for (k = 0; k < x->nchans; k++) {
            if (x->chans[k].ch->len == c->argv[i].len
                && memcmp(x->chans[k].ch->name, c->argv[i].data,
                          c->argv[i].len) == 0)
            {
                store_unsubscribe_at(c, k);
                break;
            }
        }
        store_pubsub_update_flag(c);
        store_pubsub_confirm(c, "unsubscribe", c->argv[i].data,
                             c->argv[i].len);
    }
}


static store_pattern_t **
store_pattern_find(store_client_t *c, const void *pat, size_t len)
{
    store_pattern_t **pp;

    for (pp = &c->st->patterns; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->c == c && (*pp)->len == len
            && memcmp((*pp)->pat, pat, len) == 0)
        {
            return pp;
        }
    }
    return NULL;
}


static void
store_cmd_psubscribe(store_client_t *c)
{
    store_pattern_t  *p, **tail;
    size_t            i;

    for (i = 1; i < c->argc; i++) {
        if (store_pattern_find(c, c->argv[i].data, c->argv[i].len) == NULL) {
            p = malloc(sizeof(*p) + c->argv[i].len);
            if (p == NULL) {
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
            p->c = c;
            p->len = (uint32_t) c->argv[i].len;
            memcpy(p->pat, c->argv[i].data, c->argv[i].len);
            p->next = NULL;
            /* appended: PUNSUBSCRIBE with no argument answers in order */
            for (tail = &c->st->patterns; *tail != NULL;
                 tail = &(*tail)->next)
            {
                /* walk to the end */
            }
            *tail = p;
            c->st->npatterns++;
            c->ext->npatterns++;
        }
        store_pubsub_update_flag(c);
        store_pubsub_confirm(c, "psubscribe", c->argv[i].data,
                             c->argv[i].len);
    }
}


static void
store_pattern_remove(store_client_t *c, store_pattern_t **pp)
{
    store_pattern_t *p = *pp;

    *pp = p->next;
    free(p);
    c->st->npatterns--;
    c->ext->npatterns--;
}


static void
store_cmd_punsubscribe(store_client_t *c)
{
    store_pattern_t **pp;
    size_t            i;

    if (c->argc == 1) {
        if (c->ext->npatterns == 0) {
            store_pubsub_confirm(c, "punsubscribe", NULL, 0);
            return;
        }
        pp = &c->st->patterns;
        while (*pp != NULL) {
            if ((*pp)->c == c) {
                char   *name = malloc((*pp)->len + 1);
                size_t  len = (*pp)->len;

                if (name == NULL) {
                    return;
                }
                memcpy(name, (*pp)->pat, len);
                store_pattern_remove(c, pp);
                store_pubsub_update_flag(c);
                store_pubsub_confirm(c, "punsubscribe", name, len);
                free(name);
            } else {
                pp = &(*pp)->next;
            }
        }
        return;
    }
    for (i = 1; i < c->argc; i++) {
        pp = store_pattern_find(c, c->argv[i].data, c->argv[i].len);
        if (pp != NULL) {
            store_pattern_remove(c, pp);
        }
        store_pubsub_update_flag(c);
        store_pubsub_confirm(c, "punsubscribe", c->argv[i].data,
                             c->argv[i].len);
    }
}


/* The client is going: every subscription goes with it. */
void
store_pubsub_client_free(store_client_t *c)
{
    store_pattern_t **pp;

    while (c->ext->nchans > 0) {
        store_unsubscribe_at(c, c->ext->nchans - 1);
    }
    pp = &c->st->patterns;
    while (*pp != NULL && c->ext->npatterns > 0) {
        if ((*pp)->c == c) {
            store_pattern_remove(c, pp);
        } else {
            pp = &(*pp)->next;
        }
    }
    c->flags &= ~STORE_CLIENT_PUBSUB;
}


/* After a message: a subscriber past its output limit is dropped. */
static void
store_pubsub_check_limit(store_t *st, store_client_t *c)
{
    ob_conn_flush(c->conn);
    if (st->pubsub_output_limit > 0
        && ob_conn_output_pending(c->conn)
           > (size_t) st->pubsub_output_limit)
    {
        ob_conn_close(c->conn, 0);
    }
}


size_t
store_pubsub_publish(store_t *st, const void *chan, size_t nchan,
                     const void *msg, size_t nmsg)
{
    ob_hash_link_t   *link;
    store_channel_t  *ch;
    store_sub_t      *sub;
    store_pattern_t  *p;
    size_t            receivers = 0;

    link = ob_hash_find(&st->channels, chan, nchan);
    if (link != NULL) {
        ch = OB_HASH_ENTRY(link, store_channel_t, hlink);
        for (sub = ch->head; sub != NULL; sub = sub->next) {
            store_client_t *c = sub->c;

            store_reply_push(&c->r, 3);
            store_reply_bulk(&c->r, "message", 7);
            store_reply_bulk(&c->r, chan, nchan);
            store_reply_bulk(&c->r, msg, nmsg);
            store_pubsub_check_limit(st, c);
            receivers++;
        }
    }
    for (p = st->patterns; p != NULL; p = p->next) {
        if (!store_glob_match(p->pat, p->len, chan, nchan, 0)) {
            continue;
        }
        store_reply_push(&p->c->r, 4);
        store_reply_bulk(&p->c->r, "pmessage", 8);
        store_reply_bulk(&p->c->r, p->pat, p->len);
        store_reply_bulk(&p->c->r, chan, nchan);
        store_reply_bulk(&p->c->r, msg, nmsg);
        store_pubsub_check_limit(st, p->c);
        receivers++;
    }
    st->pubsub_messages++;
    return receivers;
}


static void
store_cmd_publish(store_client_t *c)
{
    size_t n;

    n = store_pubsub_publish(c->st, c->argv[1].data, c->argv[1].len,
                             c->argv[2].data, c->argv[2].len);
    store_reply_int(&c->r, (long long) n);
}


/* Redis 7.0.15's PUBSUB HELP, word for word. */
static const char *const store_help_pubsub[] = {
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
    NULL
};


static void
store_cmd_pubsub_help(store_client_t *c)
{
    store_reply_help(c, store_help_pubsub);
}


static void
store_cmd_pubsub_channels(store_client_t *c)
{
    store_t          *st = c->st;
    store_reply_buf_t out = { 0 };
    store_reply_t     r;
    size_t            n = 0, i;
    store_client_t   *cl;
    size_t            k;

    if (c->argc > 3) {
        store_reply_subcommand_syntax(c);
        return;
    }
    /* Channels are found through their subscribers (the table has no
     * iterator); each channel once: its first subscriber reports it. */
    store_reply_init(&r, c->r.proto, store_reply_buf_write, &out);
    for (i = 0; i < st->nclients; i++) {
        cl = st->clients[i];
        for (k = 0; k < cl->ext->nchans; k++) {
            store_channel_t *ch = cl->ext->chans[k].ch;

            if (ch->head == NULL || ch->head->c != cl) {
                continue;
            }
            if (c->argc == 3
                && !store_glob_match((const char *) c->argv[2].data,
                                     c->argv[2].len,
                                     ch->name, ch->len, 0))
            {
                continue;
            }
            store_reply_bulk(&r, ch->name, ch->len);
            n++;
        }
    }
    store_reply_array(&c->r, n);
    if (out.len > 0) {
        c->r.write(c->r.ctx, out.data, out.len);
    }
    store_reply_buf_free(&out);
}


static void
store_cmd_pubsub_numsub(store_client_t *c)
{
    ob_hash_link_t  *link;
    size_t           i;

    store_reply_array(&c->r, (c->argc - 2) * 2);
    for (i = 2; i < c->argc; i++) {
        link = ob_hash_find(&c->st->channels, c->argv[i].data,
                            c->argv[i].len);
        store_reply_bulk(&c->r, c->argv[i].data, c->argv[i].len);
        store_reply_int(&c->r, link == NULL ? 0
                        : (long long) OB_HASH_ENTRY(link, store_channel_t,
                                                    hlink)->nsubs);
    }
}


static int
store_pattern_cmp(const void *a, const void *b)
{
    const store_pattern_t  *x = *(const store_pattern_t *const *) a;
    const store_pattern_t  *y = *(const store_pattern_t *const *) b;
    int                     d;

    d = memcmp(x->pat, y->pat, OB_MIN(x->len, y->len));
    if (d != 0) {
        return d;
    }
    return x->len < y->len ? -1 : x->len > y->len;
}


/*
 * Redis counts distinct patterns (its pattern dictionary's size), while
 * the list holds one entry per client subscription: sort and count the
 * distinct ones, O(n log n).
 */
static void
store_cmd_pubsub_numpat(store_client_t *c)
{
    store_pattern_t  **v, *p;
    size_t             n = 0, i, distinct = 0;

    if (c->st->npatterns == 0) {
        store_reply_int(&c->r, 0);
        return;
    }
    v = malloc(c->st->npatterns * sizeof(*v));
    if (v == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    for (p = c->st->patterns; p != NULL && n < c->st->npatterns;
         p = p->next)
    {
        v[n++] = p;
    }
    qsort(v, n, sizeof(*v), store_pattern_cmp);
    for (i = 0; i < n; i++) {
        if (i == 0 || store_pattern_cmp(&v[i - 1], &v[i]) != 0) {
            distinct++;
        }
    }
    free(v);
    store_reply_int(&c->r, (long long) distinct);
}


static void
store_cmd_pubsub_shardchannels(store_client_t *c)
{
    store_reply_array(&c->r, 0);
}


static void
store_cmd_pubsub_shardnumsub(store_client_t *c)
{
    size_t i;

    store_reply_array(&c->r, (c->argc - 2) * 2);
    for (i = 2; i < c->argc; i++) {
        store_reply_bulk(&c->r, c->argv[i].data, c->argv[i].len);
        store_reply_int(&c->r, 0);
    }
}


#define STORE_PUBSUB_FLAGS  (STORE_CMD_PUBSUB | STORE_CMD_NOSCRIPT \
                             | STORE_CMD_LOADING | STORE_CMD_STALE \
                             | STORE_CMD_PUBSUB_OK)

const store_cmd_t store_cmds_pubsub[] = {
    { .base = { .name = "subscribe", .arity_min = 2, .arity_max = -1,
                .flags = STORE_PUBSUB_FLAGS },
      .handler = store_cmd_subscribe, .acl = "@pubsub @slow" },
    { .base = { .name = "unsubscribe", .arity_min = 1, .arity_max = -1,
                .flags = STORE_PUBSUB_FLAGS },
      .handler = store_cmd_unsubscribe, .acl = "@pubsub @slow" },
    { .base = { .name = "psubscribe", .arity_min = 2, .arity_max = -1,
                .flags = STORE_PUBSUB_FLAGS },
      .handler = store_cmd_psubscribe, .acl = "@pubsub @slow" },
    { .base = { .name = "punsubscribe", .arity_min = 1, .arity_max = -1,
                .flags = STORE_PUBSUB_FLAGS },
      .handler = store_cmd_punsubscribe, .acl = "@pubsub @slow" },
    { .base = { .name = "publish", .arity_min = 3, .arity_max = 3,
                .flags = STORE_CMD_PUBSUB | STORE_CMD_LOADING
                         | STORE_CMD_STALE | OB_CMD_FAST
                         | STORE_CMD_MAY_REPLICATE },
      .handler = store_cmd_publish, .acl = "@pubsub @fast" },
    { .base = { .name = "pubsub", .arity_min = 2, .arity_max = -1,
                .flags = STORE_CMD_SUBCMDS },
      .acl = "@slow" },
    { .base = { .name = "pubsub|channels", .arity_min = 2, .arity_max = -1,
                .flags = STORE_CMD_PUBSUB | STORE_CMD_LOADING
                         | STORE_CMD_STALE },
      .handler = store_cmd_pubsub_channels, .acl = "@pubsub @slow" },
    { .base = { .name = "pubsub|numsub", .arity_min = 2, .arity_max = -1,
                .flags = STORE_CMD_PUBSUB | STORE_CMD_LOADING
                         | STORE_CMD_STALE },
      .handler = store_cmd_pubsub_numsub, .acl = "@pubsub @slow" },
    { .base = { .name = "pubsub|help", .arity_min = 2, .arity_max = 2,
                .flags = STORE_CMD_LOADING | STORE_CMD_STALE },
      .handler = store_cmd_pubsub_help, .acl = "@slow" },
    { .base = { .name = "pubsub|numpat", .arity_min = 2, .arity_max = 2,
                .flags = STORE_CMD_PUBSUB | STORE_CMD_LOADING
                         | STORE_CMD_STALE },
      .handler = store_cmd_pubsub_numpat, .acl = "@pubsub @slow" },
    { .base = { .name = "pubsub|shardchannels", .arity_min = 2,
                .arity_max = 3,
                .flags = STORE_CMD_PUBSUB | STORE_CMD_LOADING
                         | STORE_CMD_STALE },
      .handler = store_cmd_pubsub_shardchannels, .acl = "@pubsub @slow" },
    { .base = { .name = "pubsub|shardnumsub", .arity_min = 2,
                .arity_max = -1,
                .flags = STORE_CMD_PUBSUB | STORE_CMD_LOADING
                         | STORE_CMD_STALE },
      .handler = store_cmd_pubsub_shardnumsub, .acl = "@pubsub @slow" },
    { .base = { .name = NULL } }
};
