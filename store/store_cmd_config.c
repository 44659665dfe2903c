/*
 * store_cmd_config.c: CONFIG GET / SET / RESETSTAT over the parameters
 * the store has, by Redis's names.  One table: a name, how to show the
 * value, and how to set it (NULL: immutable while running, as Redis says
 * of "port").  save and appendonly show what the store does today (no
 * snapshots, no AOF), so that redis-benchmark's start-up query and tools
 * that read them see the truth.
 */
#include "store_srv.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_glob.h"

typedef struct store_param_s store_param_t;

typedef size_t (*store_param_get_pt)(store_t *st, const store_param_t *p,
                                     char *buf, size_t cap);
typedef int    (*store_param_set_pt)(store_t *st, const store_param_t *p,
                                     const char *value);

struct store_param_s {
    const char          *name;
    store_param_get_pt   get;
    store_param_set_pt   set;          /* NULL: immutable */
    size_t               offset;       /* of the field in store_t */
    long long            min, max;     /* integers */
    const char          *fixed;        /* a constant value */
};

static const char *const store_policy_names[] = {
    "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", NULL
};


static size_t
store_param_get_ll(store_t *st, const store_param_t *p, char *buf, size_t cap)
{
    long long v;

    memcpy(&v, (char *) st + p->offset, sizeof(v));
    return (size_t) snprintf(buf, cap, "%lld", v);
}


static size_t
store_param_get_int(store_t *st, const store_param_t *p, char *buf,
                    size_t cap)
{
    int v;

    memcpy(&v, (char *) st + p->offset, sizeof(v));
    return (size_t) snprintf(buf, cap, "%d", v);
}


static size_t
store_param_get_fixed(store_t *st, const store_param_t *p, char *buf,
                      size_t cap)
{
    (void) st;
    return (size_t) snprintf(buf, cap, "%s", p->fixed);
}


static size_t
store_param_get_policy(store_t *st, const store_param_t *p, char *buf,
                       size_t cap)
{
    (void) p;
    return (size_t) snprintf(buf, cap, "%s",
                             store_policy_names[st->maxmemory_policy]);
}


static size_t
store_param_get_pass(store_t *st, const store_param_t *p, char *buf,
                     size_t cap)
{
    (void) p;
    return (size_t) snprintf(buf, cap, "%s",
                             st->requirepass != NULL ? st->requirepass : "");
}


/* Redis shows the classes back in its canonical order. */
static size_t
store_param_get_notify(store_t *st, const store_param_t *p, char *buf,
                       size_t cap)
{
    static const struct { unsigned flag; char ch; } order[] = {
        { STORE_NOTIFY_GENERIC, 'g' }, { STORE_NOTIFY_STRING, '$' },
        { STORE_NOTIFY_LIST, 'l' }, { STORE_NOTIFY_SET, 's' },
        { STORE_NOTIFY_HASH, 'h' }, { STORE_NOTIFY_ZSET, 'z' },
        { STORE_NOTIFY_EXPIRED, 'x' }, { STORE_NOTIFY_EVICTED, 'e' },
        { STORE_NOTIFY_STREAM, 't' }, { STORE_NOTIFY_KEY_MISS, 'm' },
        { STORE_NOTIFY_NEW, 'n' }
    };
    unsigned all = STORE_NOTIFY_GENERIC | STORE_NOTIFY_STRING
                   | STORE_NOTIFY_LIST | STORE_NOTIFY_SET | STORE_NOTIFY_HASH
                   | STORE_NOTIFY_ZSET | STORE_NOTIFY_EXPIRED
                   | STORE_NOTIFY_EVICTED | STORE_NOTIFY_STREAM;
    size_t   n = 0, i;

    (void) p;
    if (cap < 16) {
        return 0;
    }
    if ((st->notify_flags & all) == all) {
        buf[n++] = 'A';
    } else {
        for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
            if ((st->notify_flags & order[i].flag)
                && order[i].flag != STORE_NOTIFY_KEY_MISS
                && order[i].flag != STORE_NOTIFY_NEW)
            {
                buf[n++] = order[i].ch;
            }
        }
    }
    if (st->notify_flags & STORE_NOTIFY_KEY_MISS) {
        buf[n++] = 'm';
    }
    if (st->notify_flags & STORE_NOTIFY_NEW) {
        buf[n++] = 'n';
    }
    if (st->notify_keyspace) {
        buf[n++] = 'K';
    }
    if (st->notify_keyevent) {
        buf[n++] = 'E';
    }
    buf[n] = '\0';
    return n;
}


static int
store_param_set_ll(store_t *st, const store_param_t *p, const char *value)
{
    ob_str_t   a = { .len = strlen(value), .data = (const uint8_t *) value };
    long long  v;

    if (store_parse_ll(&a, &v) != OB_OK || v < p->min || v > p->max) {
        return OB_ERR;
    }
    memcpy((char *) st + p->offset, &v, sizeof(v));
    return OB_OK;
}


static int
store_param_set_int(store_t *st, const store_param_t *p, const char *value)
{
    ob_str_t   a = { .len = strlen(value), .data = (const uint8_t *) value };
    long long  v;
    int        i;

    if (store_parse_ll(&a, &v) != OB_OK || v < p->min || v > p->max) {
        return OB_ERR;
    }
    i = (int) v;
    memcpy((char *) st + p->offset, &i, sizeof(i));
    return OB_OK;
}


static int
store_param_set_mem(store_t *st, const store_param_t *p, const char *value)
{
    long long v;

    if (store_memory_parse(value, &v) != OB_OK) {
        return OB_ERR;
    }
    memcpy((char *) st + p->offset, &v, sizeof(v));
    return OB_OK;
}


static int
store_param_set_policy(store_t *st, const store_param_t *p, const char *value)
{
    int i;

    (void) p;
    for (i = 0; store_policy_names[i] != NULL; i++) {
        if (strcasecmp(value, store_policy_names[i]) == 0) {
            st->maxmemory_policy = (store_maxmem_policy_t) i;
            return OB_OK;
        }
    }
    return OB_ERR;
}


static int
store_param_set_pass(store_t *st, const store_param_t *p, const char *value)
{
    (void) p;
    free(st->requirepass);
    st->requirepass = *value != '\0' ? strdup(value) : NULL;
    return OB_OK;
}


static int
store_param_set_notify(store_t *st, const store_param_t *p, const char *value)
{
    (void) p;
    return store_notify_parse(value, &st->notify_flags, &st->notify_keyspace,
                              &st->notify_keyevent);
}


#define P_LL(n, field, lo, hi) \
    { .name = n, .get = store_param_get_ll, .set = store_param_set_ll, \
      .offset = offsetof(store_t, field), .min = lo, .max = hi }
#define P_INT(n, field, lo, hi) \
    { .name = n, .get = store_param_get_int, .set = store_param_set_int, \
      .offset = offsetof(store_t, field), .min = lo, .max = hi }
#define P_FIXED(n, v) \
    { .name = n, .get = store_param_get_fixed, .fixed = v }

static const store_param_t store_params[] = {
    { .name = "maxmemory", .get = store_param_get_ll,
      .set = store_param_set_mem, .offset = offsetof(store_t, maxmemory) },
    { .name = "maxmemory-policy", .get = store_param_get_policy,
      .set = store_param_set_policy },
    P_INT("maxmemory-samples", maxmemory_samples, 1, 64),
    { .name = "requirepass", .get = store_param_get_pass,
      .set = store_param_set_pass },
    { .name = "notify-keyspace-events", .get = store_param_get_notify,
      .set = store_param_set_notify },
    P_LL("proto-max-bulk-len", proto_max_bulk_len, 1048576,
         536870912LL * 4),
    P_LL("client-query-buffer-limit", query_buffer_limit, 1048576,
         1073741824LL * 4),
    P_LL("slowlog-log-slower-than", slowlog_slower_than, -1, 1LL << 40),
    P_LL("slowlog-max-len", slowlog_max_len, 0, 1LL << 20),
    P_LL("timeout", timeout, 0, 1LL << 30),
    P_INT("lfu-log-factor", lfu_log_factor, 0, 255),
    P_INT("lfu-decay-time", lfu_decay_time, 0, 1 << 20),
    { .name = "port", .get = store_param_get_int,
      .offset = offsetof(store_t, port) },
    { .name = "databases", .get = store_param_get_int,
      .offset = offsetof(store_t, databases) },
    { .name = "hz", .get = store_param_get_int,
      .offset = offsetof(store_t, hz) },
    P_FIXED("save", ""),
    P_FIXED("appendonly", "no"),
    P_FIXED("bind", "127.0.0.1"),
    P_FIXED("protected-mode", "yes"),
    P_FIXED("maxclients", "10000"),
    { .name = NULL }
};


static void
store_cmd_config_get(store_client_t *c)
{
    store_reply_buf_t  out = { 0 };
    store_reply_t      r;
    size_t             n = 0, i, k, j;
    char               buf[256];
    size_t             len;
    unsigned char      seen[sizeof(store_params) / sizeof(store_params[0])];

    memset(seen, 0, sizeof(seen));
    store_reply_init(&r, c->r.proto, store_reply_buf_write, &out);
    for (k = 2; k < c->argc; k++) {
        for (i = 0; store_params[i].name != NULL; i++) {
            const char *name = store_params[i].name;

            if (seen[i] || !store_glob_match((const char *) c->argv[k].data,
                                             c->argv[k].len, name,
                                             strlen(name), 1))
            {
                continue;
            }
            seen[i] = 1;
            len = store_params[i].get(c->st, &store_params[i], buf,
                                      sizeof(buf));
            for (j = 0; j < sizeof(buf) && j < len; j++) {
                /* (values are plain text) */
            }
            store_reply_bulk(&r, name, strlen(name));
            store_reply_bulk(&r, buf, OB_MIN(len, sizeof(buf) - 1));
            n++;
        }
    }
    store_reply_map(&c->r, n);
    if (out.len > 0) {
        c->r.write(c->r.ctx, out.data, out.len);
    }
    store_reply_buf_free(&out);
}


static const store_param_t *
store_param_find(const ob_str_t *name)
{
    size_t i;

    for (i = 0; store_params[i].name != NULL; i++) {
        if (strlen(store_params[i].name) == name->len
            && strncasecmp(store_params[i].name, (const char *) name->data,
                           name->len) == 0)
        {
            return &store_params[i];
        }
    }
    return NULL;
}


static void
store_cmd_config_set(store_client_t *c)
{
    const store_param_t *p;
    size_t               i;
    char                *value;

    if ((c->argc - 2) % 2 != 0) {
        store_add_err_arity(c, "config|set");
        return;
    }
    /* Check every pair before applying any, as Redis 7.0 does. */
    for (i = 2; i < c->argc; i += 2) {
        p = store_param_find(&c->argv[i]);
        if (p == NULL) {
            store_add_errf(c, "ERR Unknown option or number of arguments "
                           "for CONFIG SET - '%.*s'",
                           (int) OB_MIN(c->argv[i].len, 128),
                           (const char *) c->argv[i].data);
            return;
        }
        if (p->set == NULL) {
            store_add_errf(c, "ERR CONFIG SET failed (possibly related to "
                           "argument '%s') - can't set immutable config",
                           p->name);
            return;
        }
    }
    for (i = 2; i < c->argc; i += 2) {
        p = store_param_find(&c->argv[i]);
        value = strndup((const char *) c->argv[i + 1].data,
                        c->argv[i + 1].len);
        if (value == NULL || p->set(c->st, p, value) != OB_OK) {
            store_add_errf(c, "ERR CONFIG SET failed (possibly related to "
                           "argument '%s') - argument couldn't be parsed "
                           "into an integer", p->name);
            free(value);
            return;
        }
        free(value);
    }
    store_add_ok(c);
}


static void
store_cmd_config_resetstat(store_client_t *c)
{
    store_t *st = c->st;

    memset(st->cmd_stats, 0, st->ncmds * sizeof(*st->cmd_stats));
    memset(st->errstats, 0, sizeof(st->errstats));
    st->nerrstats = 0;
    st->total_error_replies = 0;
    st->total_commands = 0;
    st->total_connections = 0;
    st->keyspace_hits = 0;
    st->keyspace_misses = 0;
    st->evicted_keys = 0;
    st->dbs->expired_keys = 0;
    st->pubsub_messages = 0;
    st->total_net_input = 0;
    st->total_net_output = 0;
    store_add_ok(c);
}


#define CFG(sub, amin, amax, fn) \
    { .base = { .name = "config|" sub, .arity_min = amin, \
                .arity_max = amax, .flags = OB_CMD_ADMIN \
                | STORE_CMD_NOSCRIPT | STORE_CMD_LOADING | STORE_CMD_STALE }, \
      .handler = fn, .acl = "@admin @slow @dangerous" }

const store_cmd_t store_cmds_config[] = {
    { .base = { .name = "config", .arity_min = 2, .arity_max = -1,
                .flags = STORE_CMD_SUBCMDS }, .acl = "@slow" },
    CFG("get", 3, -1, store_cmd_config_get),
    CFG("set", 4, -1, store_cmd_config_set),
    CFG("resetstat", 2, 2, store_cmd_config_resetstat),
    { .base = { .name = NULL } }
};
